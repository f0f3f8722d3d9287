package io.dienflink.job;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * The users a savepoint reader has emitted, so that it emits each once: the State Processor API's
 * RocksDB key iterator over several states can hand the same user to {@code readKey} more than once
 * (observed at about 1.2-1.5× on 5,000-20,000 users with a value and a map state each).
 *
 * <p>Bounded heap: the keys come from a merge of RocksDB iterators (one per state) over keys
 * prefixed with their key group, so every copy of a key arrives before the merge leaves the key's
 * key group, and key groups arrive in increasing order. The set is therefore cleared at each key
 * group boundary and holds the keys of one key group at most (users / max parallelism). Flink's
 * merge compares the prefix as signed bytes, which keeps that order only for a one-byte prefix
 * (max parallelism &lt;= 128, Flink's default below a parallelism of 86); above that, or with an
 * unknown max parallelism (0), every key is kept (18-36 bytes per user of the subtask). A key group
 * arriving out of order throws rather than risk emitting a user twice.
 *
 * <p>Open addressing, a long and a flag per slot, at most half full.
 */
final class SeenKeys {
    private final int maxParallelism;
    private int keyGroup = -1;
    private long[] keys = new long[1 << 12];
    private boolean[] used = new boolean[1 << 12];
    private int size;
    private int largest;

    /** @param maxParallelism key groups of the savepoint's operator; 0 if unknown (keep every key) */
    SeenKeys(int maxParallelism) {
        this.maxParallelism = maxParallelism;
    }

    /** Every key kept: for readers that do not know the max parallelism. */
    SeenKeys() {
        this(0);
    }

    /**
     * False if the key was seen before (in its key group).
     *
     * @throws IllegalStateException if the key's key group comes before the previous key's
     */
    boolean firstSight(long key) {
        if (maxParallelism > 0 && maxParallelism <= 128) {
            // the same hash the keyed state used for the Long key (Types.LONG)
            int group = KeyGroupRangeAssignment.assignToKeyGroup(key, maxParallelism);
            if (group != keyGroup) {
                if (group < keyGroup) {
                    throw new IllegalStateException("user " + key + " of key group " + group + " came after key group "
                            + keyGroup + ": the savepoint's keys are not in key group order, so repeated keys cannot be "
                            + "detected with bounded memory");
                }
                clear();
                keyGroup = group;
            }
        }
        boolean added = add(key);
        largest = Math.max(largest, size);
        return added;
    }

    /** The most keys held at once. */
    int largest() {
        return largest;
    }

    private boolean add(long key) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        int s = slot(key, mask);
        while (used[s]) {
            if (keys[s] == key) {
                return false;
            }
            s = (s + 1) & mask;
        }
        used[s] = true;
        keys[s] = key;
        size++;
        return true;
    }

    /** Forgets every key; keeps the capacity, which the next key group will likely need again. */
    private void clear() {
        if (size > 0) {
            java.util.Arrays.fill(used, false);
            size = 0;
        }
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    private void grow() {
        long[] oldKeys = keys;
        boolean[] oldUsed = used;
        keys = new long[oldKeys.length * 2];
        used = new boolean[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldUsed[i]) {
                add(oldKeys[i]);
            }
        }
    }
}

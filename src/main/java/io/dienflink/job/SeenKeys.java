package io.dienflink.job;

/**
 * A set of long keys (open addressing, 16 bytes per slot), for reading savepoints: the State
 * Processor API's RocksDB key iterator over several states can hand the same user to
 * {@code readKey} more than once (observed at about 1.5× on 20,000 users with a value and a map
 * state each), so readers skip users they have already emitted.
 */
final class SeenKeys {
    private long[] keys = new long[1 << 12];
    private boolean[] used = new boolean[1 << 12];
    private int size;

    /** Adds the key; false if it was already there. */
    boolean add(long key) {
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

package io.dienflink.offline;

import io.dienflink.model.Fnv1a;

/**
 * The request ids an export has written, so that a record written twice (a replayed topic, an
 * at-least-once run) is exported once. Kept as 64-bit FNV-1a hashes in an open-addressing table at
 * most half full: 16 bytes per request at most (a day of a 10 % log at 1,000 requests/s, 8.6 million
 * requests, fits in 256 MB), where a set of strings would take several times that. Two different ids
 * with the same hash (probability about n² / 2⁶⁵: 2·10⁻⁶ for 8.6 million) would drop the later one as
 * a duplicate, counted as such.
 */
final class SeenRequests {
    private long[] table = new long[1 << 12];
    private int size;

    /** False if the id was seen before. */
    boolean add(String requestId) {
        long h = Fnv1a.hash64(requestId);
        if (h == 0) {
            h = 1; // 0 marks an empty slot
        }
        if (2 * (size + 1) > table.length) {
            grow();
        }
        if (!insert(table, h)) {
            return false;
        }
        size++;
        return true;
    }

    /** Requests kept. */
    int size() {
        return size;
    }

    private static boolean insert(long[] t, long h) {
        int mask = t.length - 1;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (t[i] != 0) {
            if (t[i] == h) {
                return false;
            }
            i = (i + 1) & mask;
        }
        t[i] = h;
        return true;
    }

    private void grow() {
        long[] bigger = new long[table.length * 2];
        for (long h : table) {
            if (h != 0) {
                insert(bigger, h);
            }
        }
        table = bigger;
    }
}

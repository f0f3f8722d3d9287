package io.dienflink.model;

/**
 * Raw id → embedding row, as an open-addressing hash table with each key stored next to its row,
 * so a lookup usually costs one cache miss (a binary search over a 368k-entry vocabulary costs
 * about 19 dependent loads). Rows are {@code vocabulary index + 1}; ids not in the vocabulary map
 * to row 0, the default row (MODEL_BUNDLE.md section 3). Immutable once built.
 */
final class VocabularyIndex {
    private final long[] table;
    private final int mask;

    VocabularyIndex(long[] vocabulary) {
        int slots = Integer.highestOneBit(Math.max(2, (int) Math.ceil(vocabulary.length / 0.6)) * 2 - 1);
        table = new long[2 * slots];
        mask = slots - 1;
        for (int i = 0; i < vocabulary.length; i++) {
            int s = slot(vocabulary[i]);
            while (table[2 * s + 1] != 0) {
                s = (s + 1) & mask;
            }
            table[2 * s] = vocabulary[i];
            table[2 * s + 1] = i + 1;
        }
    }

    private int slot(long id) {
        long h = id * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    /** The embedding row of {@code id}: its vocabulary index + 1, or 0 when it is not in the vocabulary. */
    int row(long id) {
        int s = slot(id);
        while (true) {
            long row = table[2 * s + 1];
            if (row == 0 || table[2 * s] == id) {
                return (int) row;
            }
            s = (s + 1) & mask;
        }
    }
}

package io.dienflink.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The hash index gives the row a binary search over the vocabulary would: index + 1, or 0. */
class VocabularyIndexTest {

    @Test
    void agreesWithBinarySearchOnRandomIds() {
        SplittableRandom r = new SplittableRandom(3);
        for (int n : new int[] {0, 1, 2, 7, 1000, 50_000}) {
            long[] vocab = LongStream.generate(() -> r.nextLong(Long.MIN_VALUE, Long.MAX_VALUE)).limit(n).sorted().distinct().toArray();
            VocabularyIndex index = new VocabularyIndex(vocab);
            for (int i = 0; i < vocab.length; i++) {
                assertThat(index.row(vocab[i])).isEqualTo(i + 1);
            }
            for (int i = 0; i < 5000; i++) {
                long id = i % 3 == 0 ? i : r.nextLong();
                int expected = Arrays.binarySearch(vocab, id) >= 0 ? Arrays.binarySearch(vocab, id) + 1 : 0;
                assertThat(index.row(id)).as("id %d", id).isEqualTo(expected);
            }
        }
    }

    @Test
    void zeroAndNegativeIdsAreOrdinaryKeys() {
        VocabularyIndex index = new VocabularyIndex(new long[] {-5, 0, 9});
        assertThat(index.row(-5)).isEqualTo(1);
        assertThat(index.row(0)).isEqualTo(2);
        assertThat(index.row(9)).isEqualTo(3);
        assertThat(index.row(1)).isZero();
    }
}

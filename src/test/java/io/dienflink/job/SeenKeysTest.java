package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

/** Repeated keys are skipped exactly, with the keys of one key group on the heap when the order allows it. */
class SeenKeysTest {
    private static final int MAX_PARALLELISM = 128;

    /** Users 0..n-1 in key group order, each repeated 1-3 times within its key group run, repeats shuffled in. */
    private static List<Long> keysInKeyGroupOrder(int n, long seed) {
        Random random = new Random(seed);
        List<List<Long>> groups = new ArrayList<>();
        for (int g = 0; g < MAX_PARALLELISM; g++) {
            groups.add(new ArrayList<>());
        }
        for (long u = 0; u < n; u++) {
            int copies = 1 + random.nextInt(3);
            for (int c = 0; c < copies; c++) {
                groups.get(KeyGroupRangeAssignment.assignToKeyGroup(u, MAX_PARALLELISM)).add(u);
            }
        }
        List<Long> out = new ArrayList<>();
        for (List<Long> g : groups) {
            java.util.Collections.shuffle(g, random); // repeats need not be adjacent within a key group
            out.addAll(g);
        }
        return out;
    }

    @Test
    void emitsEveryKeyOnceHoldingOneKeyGroupAtMost() {
        int n = 20_000;
        List<Long> keys = keysInKeyGroupOrder(n, 7);
        SeenKeys seen = new SeenKeys(MAX_PARALLELISM);
        List<Long> emitted = new ArrayList<>();
        for (long k : keys) {
            if (seen.firstSight(k)) {
                emitted.add(k);
            }
        }
        emitted.sort(Comparator.naturalOrder());
        List<Long> expected = new ArrayList<>();
        for (long u = 0; u < n; u++) {
            expected.add(u);
        }
        assertThat(emitted).isEqualTo(expected);
        // about n / 128 = 156 per key group; far below the 20,000 an unbounded set holds
        assertThat(seen.largest()).isBetween(100, 300);
    }

    @Test
    void keepsEveryKeyWhenTheKeyGroupsAreUnknownOrTooMany() {
        List<Long> keys = keysInKeyGroupOrder(5_000, 11);
        java.util.Collections.shuffle(keys, new Random(3)); // any order
        for (SeenKeys seen : new SeenKeys[] {new SeenKeys(), new SeenKeys(4096)}) {
            long emitted = keys.stream().filter(seen::firstSight).count();
            assertThat(emitted).isEqualTo(5_000);
            assertThat(seen.largest()).isEqualTo(5_000);
        }
    }

    @Test
    void aKeyGroupOutOfOrderStopsTheReader() {
        SeenKeys seen = new SeenKeys(MAX_PARALLELISM);
        long late = -1;
        long early = -1;
        for (long u = 0; late < 0 || early < 0; u++) {
            int g = KeyGroupRangeAssignment.assignToKeyGroup(u, MAX_PARALLELISM);
            if (g == 100) {
                late = u;
            } else if (g == 3) {
                early = u;
            }
        }
        assertThat(seen.firstSight(late)).isTrue();
        long e = early;
        assertThatThrownBy(() -> seen.firstSight(e)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("key group 3 came after key group 100");
    }
}

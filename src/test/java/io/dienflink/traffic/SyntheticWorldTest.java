package io.dienflink.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A user's history is a function of the world's seed and the user, and the world can go on from its end. */
class SyntheticWorldTest {

    @Test
    void aUsersHistoryIsTheSameInAnyWorldOfTheSeedWhateverOthersDid() {
        SyntheticWorld small = SyntheticWorld.demo(100, 7);
        SyntheticWorld large = SyntheticWorld.demo(100_000, 7);
        for (int i = 0; i < 500; i++) { // other users click, in the large world only
            large.click(large.randomUser() % 50 + 50);
        }
        large.history(3, 40); // and another history of the same user is drawn first
        assertThat(large.history(7, 40)).containsExactly(small.history(7, 40));
        assertThat(SyntheticWorld.demo(100, 8).history(7, 40)).isNotEqualTo(small.history(7, 40));
        assertThat(small.history(8, 40)).isNotEqualTo(small.history(7, 40));
    }

    @Test
    void aHistoryFollowsTheUsersInterestAsClicksDo() {
        SyntheticWorld world = SyntheticWorld.demo(1_000, 7);
        int focused = 0;
        int clicks = 0;
        for (int u = 0; u < 1_000; u++) {
            SyntheticWorld.Click[] h = world.history(u, 110);
            long id = SyntheticWorld.id(u);
            assertThat(h).allSatisfy(c -> {
                assertThat(c.userId()).isEqualTo(id);
                // the item lies in the clicked category (100 items of the demo vocabulary each)
                assertThat((c.itemId() / 1000 - 1) / 100).isEqualTo(c.categoryId() / 1000 - 1);
            });
            for (int i = 1; i < h.length; i++) {
                // consecutive clicks mostly share a category: the user dwells 4-12 clicks on one, with FOCUS
                if (h[i].categoryId() == h[i - 1].categoryId()) {
                    focused++;
                }
                clicks++;
            }
        }
        // P(same category) is about FOCUS^2 · (1 − 1/dwell) ≈ 0.58 over the dwells 4-12, and 1/50 otherwise
        assertThat(focused / (double) clicks).isBetween(0.5, 0.7);
    }

    @Test
    void skippingAHistoryLeavesTheUserWhereClickingItWould() {
        SyntheticWorld skipped = SyntheticWorld.demo(10, 7);
        SyntheticWorld clicked = SyntheticWorld.demo(10, 7);
        for (long n : new long[] {1, 7, 110, 12_345}) {
            skipped.skip(4, n);
            for (long i = 0; i < n; i++) {
                clicked.click(4);
            }
            // the history from here depends on the user's position on its walk only
            assertThat(Arrays.asList(skipped.history(4, 60))).isEqualTo(Arrays.asList(clicked.history(4, 60)));
        }
    }
}

package io.dienflink.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Time to first score on recorded (request time, model, arrival) triples. */
class FirstScoreTest {
    private static final String OLD = "aaaa";
    private static final String NEW = "bbbb";

    @Test
    void countsTheFirstScoreOfARequestSentFromTheMomentOn() {
        FirstScore first = new FirstScore(10_000, null);
        assertThat(first.millis()).isEmpty();
        // the downtime's backlog: sent before the resubmission, scored after it
        assertThat(first.offer(9_000, OLD, 14_000)).isFalse();
        assertThat(first.offer(9_999, OLD, 14_100)).isFalse();
        assertThat(first.millis()).isEmpty();
        assertThat(first.offer(10_000, OLD, 14_200)).isTrue();
        assertThat(first.offer(12_000, OLD, 14_300)).isTrue();
        assertThat(first.arrivedAtMs()).hasValue(14_200);
        assertThat(first.millis()).hasValue(4_200);
    }

    @Test
    void keepsTheEarliestArrivalWhateverTheOrderOfOffers() {
        FirstScore first = new FirstScore(1_000, null);
        first.offer(1_500, OLD, 3_000);
        first.offer(1_200, OLD, 2_500); // read by another thread, offered later
        assertThat(first.millis()).hasValue(1_500);
    }

    @Test
    void anUpgradeCountsOnlyTheNewModelsScores() {
        FirstScore first = new FirstScore(50_000, NEW);
        // the old job's last scores can still arrive after the resubmission began
        assertThat(first.offer(50_010, OLD, 50_020)).isFalse();
        assertThat(first.offer(50_100, "", 50_200)).isFalse(); // a v1 score has no fingerprint
        assertThat(first.millis()).isEmpty();
        assertThat(first.offer(58_000, NEW, 58_030)).isTrue();
        assertThat(first.millis()).hasValue(8_030);
    }

    @Test
    void neverNegative() {
        FirstScore first = new FirstScore(5_000, null);
        first.offer(5_000, OLD, 4_999); // two clocks read a millisecond apart
        assertThat(first.millis()).hasValue(0);
    }

    @Test
    void awaitReturnsOnceCountedOrTimesOut() throws InterruptedException {
        FirstScore first = new FirstScore(0, null);
        assertThat(first.await(Duration.ofMillis(50))).isFalse();
        first.offer(1, OLD, 2);
        assertThat(first.await(Duration.ofMillis(50))).isTrue();
    }
}

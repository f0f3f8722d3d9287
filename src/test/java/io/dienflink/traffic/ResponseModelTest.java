package io.dienflink.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The response model: clicks at the candidates' true probabilities, delays in range, reproducible. */
class ResponseModelTest {
    private static final List<SyntheticWorld.Candidate> CANDIDATES = List.of(
            new SyntheticWorld.Candidate(1, 10, 0.6), new SyntheticWorld.Candidate(2, 20, 0.45),
            new SyntheticWorld.Candidate(3, 30, 0.05), new SyntheticWorld.Candidate(4, 40, 0.0));

    @Test
    void eachCandidateIsClickedWithItsProbabilityAfterADelayInRange() {
        ResponseModel m = new ResponseModel(Duration.ofSeconds(1), Duration.ofSeconds(3), 5);
        int n = 40_000;
        long[] clicked = new long[5];
        for (int i = 0; i < n; i++) {
            long t = 1_000_000L * i;
            for (ResponseModel.Response r : m.respond(t, 77, CANDIDATES)) {
                clicked[(int) r.itemId()]++;
                assertThat(r.userId()).isEqualTo(77);
                assertThat(r.categoryId()).isEqualTo(r.itemId() * 10);
                assertThat(r.time() - t).isBetween(1_000L, 3_000L);
            }
        }
        for (SyntheticWorld.Candidate c : CANDIDATES) {
            double p = c.clickProbability();
            double sigma = Math.sqrt(n * p * (1 - p));
            // binomial: within 5 standard deviations of n·p (a false alarm once in 1.7 million runs)
            assertThat((double) clicked[(int) c.itemId()]).as("item %d", c.itemId()).isBetween(n * p - 5 * sigma - 1e-9,
                    n * p + 5 * sigma + 1e-9);
        }
    }

    @Test
    void theSameSeedGivesTheSameResponsesAnotherSeedOthers() {
        ResponseModel a = new ResponseModel(Duration.ZERO, Duration.ofSeconds(5), 1);
        ResponseModel b = new ResponseModel(Duration.ZERO, Duration.ofSeconds(5), 1);
        ResponseModel c = new ResponseModel(Duration.ZERO, Duration.ofSeconds(5), 2);
        boolean differs = false;
        for (int i = 0; i < 200; i++) {
            List<ResponseModel.Response> ra = a.respond(i, 1, CANDIDATES);
            assertThat(b.respond(i, 1, CANDIDATES)).isEqualTo(ra);
            differs |= !c.respond(i, 1, CANDIDATES).equals(ra);
        }
        assertThat(differs).isTrue();
    }

    @Test
    void badDelaysAreRefused() {
        assertThatThrownBy(() -> new ResponseModel(Duration.ofSeconds(2), Duration.ofSeconds(1), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("min <= max");
    }
}

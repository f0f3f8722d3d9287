package io.dienflink.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void aucOfKnownRankings() {
        int[] y = {0, 0, 1, 1};
        assertThat(Metrics.auc(new float[] {0.1f, 0.2f, 0.8f, 0.9f}, y)).isEqualTo(1.0);
        assertThat(Metrics.auc(new float[] {0.9f, 0.8f, 0.2f, 0.1f}, y)).isEqualTo(0.0);
        assertThat(Metrics.auc(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, y)).isEqualTo(0.5);
        // one positive below one negative of four pairs
        assertThat(Metrics.auc(new float[] {0.1f, 0.6f, 0.5f, 0.9f}, y)).isEqualTo(0.75);
        assertThat(Metrics.auc(new float[] {0.1f, 0.2f}, new int[] {1, 1})).isNaN();
    }

    @Test
    void loglossOfKnownPredictions() {
        assertThat(Metrics.logloss(new float[] {0.5f, 0.5f}, new int[] {0, 1})).isCloseTo(Math.log(2), within(1e-9));
        assertThat(Metrics.logloss(new float[] {1f}, new int[] {0})).isCloseTo(-Math.log(1e-7), within(1e-6));
    }
}

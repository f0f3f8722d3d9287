package io.dienflink.train;

import io.dienflink.evaluate.BinaryMetrics;

/**
 * Evaluation metrics of the trainer over float32 predictions and 0/1 labels: {@link BinaryMetrics}
 * (the one implementation the evaluate job, {@code evaluate --data} and {@code eval-report} use),
 * so a training report's AUC and log loss are the same numbers the online evaluation gives.
 */
public final class Metrics {
    private Metrics() {}

    /** Area under the ROC curve (ties get half credit); NaN without both classes. */
    public static double auc(float[] p, int[] y) {
        return BinaryMetrics.auc(widen(p), y);
    }

    /** Mean binary cross-entropy, with probabilities clipped to [1e-7, 1 − 1e-7]. */
    public static double logloss(float[] p, int[] y) {
        return BinaryMetrics.logLoss(widen(p), y);
    }

    // exact: every float is a double, so order, ties and clipping are unchanged
    private static double[] widen(float[] p) {
        double[] d = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            d[i] = p[i];
        }
        return d;
    }
}

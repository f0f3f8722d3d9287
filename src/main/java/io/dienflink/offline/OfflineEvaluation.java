package io.dienflink.offline;

import io.dienflink.evaluate.BinaryMetrics;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Semantics;
import io.dienflink.train.RawSample;
import java.util.List;

/**
 * A bundle's metrics on labelled examples in the official format (e.g. {@code export-samples}'
 * file): every example is scored from its history with the model core in <em>windowed</em>
 * semantics (the extractor from zero over the history's last T clicks, MODEL_BUNDLE.md section 4),
 * the semantics training uses. The serving job serves streaming semantics, identical while a user
 * has applied at most T clicks; beyond that the served score also carries the extractor state of
 * clicks before the window, which a file of windows cannot reproduce. {@link #compareServed} measures
 * that skew when the served scores are at hand.
 */
public final class OfflineEvaluation {
    private OfflineEvaluation() {}

    /** Metrics over one scoring of the examples, all from {@link BinaryMetrics}. */
    public record Metrics(long examples, long positives, double auc, double logLoss, double normalizedEntropy,
                          double calibration) {
        /** The metrics of {@code p} against {@code y}. */
        public static Metrics of(double[] p, int[] y) {
            long positives = 0;
            double sumPredicted = 0;
            for (int i = 0; i < p.length; i++) {
                positives += y[i];
                sumPredicted += p[i];
            }
            double logLoss = BinaryMetrics.logLoss(p, y);
            return new Metrics(p.length, positives, BinaryMetrics.auc(p, y), logLoss,
                    BinaryMetrics.normalizedEntropy(logLoss, positives, p.length),
                    BinaryMetrics.calibration(sumPredicted, positives));
        }
    }

    /** How far the recomputed (windowed) scores are from the served ones. */
    public record Skew(long examples, double maxAbs, double meanAbs, long above1e5) {}

    /** The labels of the examples, in order. */
    public static int[] labels(List<RawSample> examples) {
        return examples.stream().mapToInt(RawSample::label).toArray();
    }

    /** Each example's CTR under {@code model}, windowed semantics, from its own history. */
    public static double[] score(DienModel model, List<RawSample> examples) {
        DienScorer scorer = model.newScorer();
        int window = model.config().maxHistory();
        double[] p = new double[examples.size()];
        float[] ctr = new float[1];
        long[] item = new long[1];
        long[] category = new long[1];
        for (int i = 0; i < p.length; i++) {
            RawSample x = examples.get(i);
            InterestState state = scorer.newState();
            // windowed semantics reads only the last T clicks: the earlier ones would be cell steps for nothing
            for (int k = Math.max(0, x.items().length - window); k < x.items().length; k++) {
                state.append(scorer, x.items()[k], x.categories()[k]);
            }
            item[0] = x.candidateItem();
            category[0] = x.candidateCategory();
            state.score(scorer, x.user(), item, category, 1, Semantics.WINDOWED, ctr);
            p[i] = ctr[0];
        }
        return p;
    }

    /** The absolute differences of recomputed and served scores. */
    public static Skew compareServed(double[] recomputed, double[] served) {
        if (recomputed.length != served.length) {
            throw new IllegalArgumentException(served.length + " served scores for " + recomputed.length + " examples");
        }
        double max = 0;
        double sum = 0;
        long above = 0;
        for (int i = 0; i < served.length; i++) {
            double d = Math.abs(recomputed[i] - served[i]);
            max = Math.max(max, d);
            sum += d;
            above += d > 1e-5 ? 1 : 0; // float32 rounding alone reaches ~1e-6 (windowed and streaming kernels differ)
        }
        return new Skew(served.length, max, served.length == 0 ? Double.NaN : sum / served.length, above);
    }
}

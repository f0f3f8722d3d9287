package io.dienflink.evaluate;

import java.util.Arrays;

/**
 * Metrics of predicted click probabilities against 0/1 labels, one implementation for the online
 * evaluate job, the offline {@code evaluate --model --data} and {@code eval-report}: the same
 * labelled scores give the same numbers on every path.
 *
 * <p>Conventions (docs/evaluation.md): AUC gives ties half credit and is NaN without both classes;
 * log loss clips probabilities to [{@value #EPSILON}, 1 − {@value #EPSILON}]; normalized entropy is the
 * log loss over the entropy of the click rate (He et al., "Practical Lessons from Predicting Clicks
 * on Ads at Facebook", 2014); calibration is Σ predicted / Σ clicked; PSI compares two score
 * distributions over {@value #BINS} equal bins of [0, 1].
 */
public final class BinaryMetrics {
    /** Probability clip of the log loss (as {@code train}'s). */
    public static final double EPSILON = 1e-7;
    /** Score bins of the histograms and of PSI. */
    public static final int BINS = 100;
    /** Added to empty bins' shares in PSI, so that an empty bin does not make it infinite. */
    static final double PSI_FLOOR = 1e-4;

    private BinaryMetrics() {}

    /** Area under the ROC curve via mid-ranks, O(n log n); NaN without both classes. */
    public static double auc(double[] p, int[] y) {
        check(p, y);
        int n = p.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(p[a], p[b]));
        double rankSumPositive = 0;
        long positives = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && p[order[j + 1]] == p[order[i]]) {
                j++;
            }
            double midRank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                if (y[order[k]] == 1) {
                    rankSumPositive += midRank;
                    positives++;
                }
            }
            i = j + 1;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        return (rankSumPositive - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }

    /** One example's binary cross-entropy, probability clipped. */
    public static double logLoss(double p, int y) {
        double q = Math.min(1 - EPSILON, Math.max(EPSILON, p));
        return y == 1 ? -Math.log(q) : -Math.log(1 - q);
    }

    /** Mean binary cross-entropy; NaN for no examples. */
    public static double logLoss(double[] p, int[] y) {
        check(p, y);
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            s += logLoss(p[i], y[i]);
        }
        return p.length == 0 ? Double.NaN : s / p.length;
    }

    /** Log loss over the entropy of the click rate {@code positives / n}; NaN without both classes. */
    public static double normalizedEntropy(double logLoss, long positives, long n) {
        if (positives <= 0 || positives >= n) {
            return Double.NaN;
        }
        double rate = positives / (double) n;
        return logLoss / -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
    }

    /** Σ predicted / Σ clicked; NaN without a click. */
    public static double calibration(double sumPredicted, long positives) {
        return positives == 0 ? Double.NaN : sumPredicted / positives;
    }

    /** The score's bin of the {@value #BINS} equal bins of [0, 1] (values outside clamp to the ends). */
    public static int bin(double p) {
        int b = (int) (p * BINS);
        return Math.max(0, Math.min(BINS - 1, b));
    }

    /** Histogram of scores over the {@value #BINS} bins. */
    public static long[] histogram(double[] p) {
        long[] h = new long[BINS];
        for (double v : p) {
            h[bin(v)]++;
        }
        return h;
    }

    /**
     * Population stability index of {@code actual} against {@code expected}, two histograms over the
     * same bins: Σ (a − e) ln(a / e) of the bins' shares, each share at least {@value #PSI_FLOOR}.
     * Below 0.1 is read as no shift, 0.1–0.25 moderate, above 0.25 large. NaN if either is empty.
     */
    public static double psi(long[] expected, long[] actual) {
        if (expected.length != actual.length) {
            throw new IllegalArgumentException("histograms of " + expected.length + " and " + actual.length + " bins");
        }
        long ne = Arrays.stream(expected).sum();
        long na = Arrays.stream(actual).sum();
        if (ne == 0 || na == 0) {
            return Double.NaN;
        }
        double s = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.max(PSI_FLOOR, expected[i] / (double) ne);
            double a = Math.max(PSI_FLOOR, actual[i] / (double) na);
            s += (a - e) * Math.log(a / e);
        }
        return s;
    }

    /** Two models' AUCs over the same labelled examples and DeLong's variance of their difference. */
    public record PairedAuc(double aucA, double aucB, double variance) {
        /** B's AUC minus A's. */
        public double difference() {
            return aucB - aucA;
        }
    }

    /**
     * DeLong, DeLong and Clarke-Pearson (Biometrics 44, 1988): the AUCs of two scorings {@code a}
     * and {@code b} of the same examples, and the variance of {@code auc(b) − auc(a)} from the
     * placement values' sample covariances (paired: the two curves' correlation is taken into
     * account). Placement values from mid-ranks (Sun and Xu, IEEE SPL 21, 2014), O(N log N). NaN
     * everything without both classes, and a NaN variance with fewer than two of either.
     */
    public static PairedAuc delong(double[] a, double[] b, int[] y) {
        check(a, y);
        check(b, y);
        int m = 0;
        for (int v : y) {
            m += v == 1 ? 1 : 0;
        }
        int n = y.length - m;
        if (m == 0 || n == 0) {
            return new PairedAuc(Double.NaN, Double.NaN, Double.NaN);
        }
        double[][] v10 = new double[2][];
        double[][] v01 = new double[2][];
        double[][] scores = {a, b};
        for (int r = 0; r < 2; r++) {
            double[] s = scores[r];
            double[] sp = new double[m];
            double[] sn = new double[n];
            for (int i = 0, pi = 0, ni = 0; i < y.length; i++) {
                if (y[i] == 1) {
                    sp[pi++] = s[i];
                } else {
                    sn[ni++] = s[i];
                }
            }
            double[] all = midRanks(s);
            double[] withinP = midRanks(sp);
            double[] withinN = midRanks(sn);
            v10[r] = new double[m];
            v01[r] = new double[n];
            for (int i = 0, pi = 0, ni = 0; i < y.length; i++) {
                // a positive's placement: negatives scored below it (ties half), over n
                if (y[i] == 1) {
                    v10[r][pi] = (all[i] - withinP[pi]) / n;
                    pi++;
                } else { // a negative's: positives scored above it (ties half), over m
                    v01[r][ni] = 1 - (all[i] - withinN[ni]) / m;
                    ni++;
                }
            }
        }
        double aucA = mean(v10[0]);
        double aucB = mean(v10[1]);
        if (m < 2 || n < 2) {
            return new PairedAuc(aucA, aucB, Double.NaN);
        }
        double s10 = cov(v10[0], v10[0]) + cov(v10[1], v10[1]) - 2 * cov(v10[0], v10[1]);
        double s01 = cov(v01[0], v01[0]) + cov(v01[1], v01[1]) - 2 * cov(v01[0], v01[1]);
        return new PairedAuc(aucA, aucB, Math.max(0, s10 / m + s01 / n));
    }

    /** 1-based ranks, ties at their mid-rank. */
    static double[] midRanks(double[] x) {
        int n = x.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (p, q) -> Double.compare(x[p], x[q]));
        double[] r = new double[n];
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && x[order[j + 1]] == x[order[i]]) {
                j++;
            }
            double mid = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                r[order[k]] = mid;
            }
            i = j + 1;
        }
        return r;
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }

    /** Sample covariance (n − 1). */
    private static double cov(double[] x, double[] z) {
        double mx = mean(x);
        double mz = mean(z);
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (x[i] - mx) * (z[i] - mz);
        }
        return s / (x.length - 1);
    }

    private static void check(double[] p, int[] y) {
        if (p.length != y.length) {
            throw new IllegalArgumentException(p.length + " scores for " + y.length + " labels");
        }
        for (int v : y) {
            if (v != 0 && v != 1) {
                throw new IllegalArgumentException("labels must be 0 or 1, got " + v);
            }
        }
    }
}

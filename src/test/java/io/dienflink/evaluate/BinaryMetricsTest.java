package io.dienflink.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link BinaryMetrics} against the metrics' definitions written out naively here (pair counting for
 * AUC, DeLong's O(m·n) placement values, He et al.'s normalized entropy) and against a bootstrap for
 * DeLong's variance.
 */
class BinaryMetricsTest {
    /** Scores and labels where higher scores click more often, with ties. */
    private static double[][] data(long seed, int n, double signal) {
        Random r = new Random(seed);
        double[] p = new double[n];
        double[] q = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double truth = r.nextDouble();
            y[i] = r.nextDouble() < 0.2 + 0.6 * truth ? 1 : 0;
            p[i] = Math.round((signal * truth + (1 - signal) * r.nextDouble()) * 50) / 50.0; // ties
            q[i] = Math.round((0.5 * signal * truth + (1 - 0.5 * signal) * r.nextDouble()) * 50) / 50.0;
        }
        return new double[][] {p, q, y};
    }

    private static int[] labels(double[] y) {
        int[] out = new int[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = (int) y[i];
        }
        return out;
    }

    /** P(score of a positive > score of a negative) + ½ P(equal), over all pairs. */
    private static double pairAuc(double[] p, int[] y) {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < p.length; j++) {
                if (y[i] == 1 && y[j] == 0) {
                    wins += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
                    pairs++;
                }
            }
        }
        return wins / pairs;
    }

    @Test
    void aucIsThePairCountingDefinition() {
        double[][] d = data(1, 600, 0.7);
        int[] y = labels(d[2]);
        assertThat(BinaryMetrics.auc(d[0], y)).isCloseTo(pairAuc(d[0], y), within(1e-12));
        assertThat(BinaryMetrics.auc(d[1], y)).isCloseTo(pairAuc(d[1], y), within(1e-12));
        assertThat(BinaryMetrics.auc(new double[] {0.1, 0.2}, new int[] {1, 1})).isNaN();
    }

    @Test
    void delongMatchesItsDefinitionWrittenOutPairByPair() {
        double[][] d = data(2, 500, 0.6);
        int[] y = labels(d[2]);
        BinaryMetrics.PairedAuc fast = BinaryMetrics.delong(d[0], d[1], y);
        // DeLong et al. 1988: V10(X_i) = 1/n Σ_j ψ(X_i, Y_j), V01(Y_j) = 1/m Σ_i ψ(X_i, Y_j);
        // S = S10/m + S01/n; var(θB − θA) = c' S c with c = (−1, 1)
        int m = 0;
        for (int v : y) {
            m += v;
        }
        int n = y.length - m;
        double[][] v10 = new double[2][m];
        double[][] v01 = new double[2][n];
        double[][] s = {d[0], d[1]};
        for (int r = 0; r < 2; r++) {
            for (int i = 0, pi = 0; i < y.length; i++) {
                if (y[i] != 1) {
                    continue;
                }
                for (int j = 0, nj = 0; j < y.length; j++) {
                    if (y[j] != 0) {
                        continue;
                    }
                    double psi = s[r][i] > s[r][j] ? 1 : s[r][i] == s[r][j] ? 0.5 : 0;
                    v10[r][pi] += psi / n;
                    v01[r][nj] += psi / m;
                    nj++;
                }
                pi++;
            }
        }
        double[][] s10 = new double[2][2];
        double[][] s01 = new double[2][2];
        for (int r = 0; r < 2; r++) {
            for (int t = 0; t < 2; t++) {
                s10[r][t] = covariance(v10[r], v10[t]);
                s01[r][t] = covariance(v01[r], v01[t]);
            }
        }
        double variance = (s10[0][0] + s10[1][1] - 2 * s10[0][1]) / m + (s01[0][0] + s01[1][1] - 2 * s01[0][1]) / n;
        assertThat(fast.aucA()).isCloseTo(pairAuc(d[0], y), within(1e-12));
        assertThat(fast.aucB()).isCloseTo(pairAuc(d[1], y), within(1e-12));
        assertThat(fast.variance()).isCloseTo(variance, within(1e-12));
        assertThat(fast.variance()).isPositive();
    }

    @Test
    void delongsVarianceAgreesWithABootstrapOfTheDifference() {
        double[][] d = data(3, 2000, 0.5);
        int[] y = labels(d[2]);
        double variance = BinaryMetrics.delong(d[0], d[1], y).variance();
        Random r = new Random(4);
        int rounds = 400;
        double sum = 0;
        double sumSq = 0;
        int n = y.length;
        for (int b = 0; b < rounds; b++) {
            double[] a = new double[n];
            double[] c = new double[n];
            int[] z = new int[n];
            for (int i = 0; i < n; i++) {
                int k = r.nextInt(n);
                a[i] = d[0][k];
                c[i] = d[1][k];
                z[i] = y[k];
            }
            double diff = BinaryMetrics.auc(c, z) - BinaryMetrics.auc(a, z);
            sum += diff;
            sumSq += diff * diff;
        }
        double bootstrap = (sumSq - sum * sum / rounds) / (rounds - 1);
        // two estimators of one variance: a bootstrap of 400 rounds is good to about ±15 %
        assertThat(variance / bootstrap).isBetween(0.75, 1.33);
    }

    @Test
    void theSameScoringTwiceHasNoDifferenceAndNoVariance() {
        double[][] d = data(5, 300, 0.6);
        int[] y = labels(d[2]);
        BinaryMetrics.PairedAuc same = BinaryMetrics.delong(d[0], d[0], y);
        assertThat(same.difference()).isZero();
        assertThat(same.variance()).isCloseTo(0, within(1e-15));
    }

    @Test
    void aConstantPredictionAtTheClickRateHasNormalizedEntropyOne() {
        int n = 1000;
        int positives = 137;
        double rate = positives / (double) n;
        double[] p = new double[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = rate;
            y[i] = i < positives ? 1 : 0;
        }
        double ll = BinaryMetrics.logLoss(p, y);
        assertThat(ll).isCloseTo(-(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate)), within(1e-12));
        assertThat(BinaryMetrics.normalizedEntropy(ll, positives, n)).isCloseTo(1.0, within(1e-12));
        assertThat(BinaryMetrics.calibration(rate * n, positives)).isCloseTo(1.0, within(1e-12));
        assertThat(BinaryMetrics.logLoss(0, 1)).isCloseTo(-Math.log(BinaryMetrics.EPSILON), within(1e-9));
    }

    @Test
    void psiIsTheSumOverBinsOfShareDifferenceTimesLogRatio() {
        assertThat(BinaryMetrics.psi(new long[] {50, 50}, new long[] {25, 75}))
                .isCloseTo((0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.75 - 0.5) * Math.log(0.75 / 0.5), within(1e-12));
        long[] h = BinaryMetrics.histogram(new double[] {0.0, 0.005, 0.5, 0.999, 1.0});
        assertThat(h[0]).isEqualTo(2);
        assertThat(h[50]).isEqualTo(1);
        assertThat(h[99]).isEqualTo(2);
        assertThat(BinaryMetrics.psi(h, h)).isZero();
    }

    private static double covariance(double[] x, double[] z) {
        double mx = 0;
        double mz = 0;
        for (int i = 0; i < x.length; i++) {
            mx += x[i] / x.length;
            mz += z[i] / z.length;
        }
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (x[i] - mx) * (z[i] - mz);
        }
        return s / (x.length - 1);
    }
}

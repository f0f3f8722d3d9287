package io.dienflink.offline;

import static io.dienflink.offline.ModelEvals.challenger;
import static io.dienflink.offline.ModelEvals.champion;
import static io.dienflink.offline.ModelEvals.minute;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.ModelEval;
import io.dienflink.evaluate.BinaryMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link EvalReport} on hand-made minutes, against the pooling and stratification formulas written out here. */
class EvalReportTest {
    /** Three minutes of A (champion) and B (challenger); B is better in each. */
    private static List<ModelEval> threeMinutes() {
        List<ModelEval> r = new ArrayList<>();
        r.add(champion("A", 0, 1000, 200, 0.70, 210.0, 480.0));
        r.add(champion("A", 1, 3000, 660, 0.72, 640.0, 1470.0));
        r.add(champion("A", 2, 2000, 380, 0.71, 400.0, 950.0));
        r.add(challenger("B", 0, 400, 80, 0.73, 90.0, 185.0, 400L, 0.030, 0.00010));
        r.add(challenger("B", 1, 1200, 260, 0.74, 250.0, 560.0, 1200L, 0.020, 0.00004));
        r.add(challenger("B", 2, 800, 150, 0.72, 170.0, 370.0, 800L, 0.015, 0.00009));
        return r;
    }

    @Test
    void poolsEachModelsMinutesExactly() {
        EvalReport report = EvalReport.of(threeMinutes(), null, null, null, null);
        EvalReport.ModelSummary a = report.comparison().champion();
        assertThat(a.fingerprint()).isEqualTo("A");
        assertThat(a.minutes()).hasSize(3);
        assertThat(a.labelled()).isEqualTo(6000);
        assertThat(a.positives()).isEqualTo(1240);
        assertThat(a.logLoss()).isCloseTo((480.0 + 1470.0 + 950.0) / 6000, within(1e-12));
        assertThat(a.calibration()).isCloseTo((210.0 + 640.0 + 400.0) / 1240, within(1e-12));
        double rate = 1240 / 6000.0;
        double entropy = -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
        assertThat(a.normalizedEntropy()).isCloseTo((2900.0 / 6000) / entropy, within(1e-12));
        assertThat(a.aucMean()).isCloseTo((1000 * 0.70 + 3000 * 0.72 + 2000 * 0.71) / 6000, within(1e-12));
        // every positive in bin 70, every negative in bin 20: the histograms separate perfectly
        assertThat(a.aucHistogram()).isEqualTo(1.0);
    }

    @Test
    void theAucDifferenceIsTheStratifiedEstimateOfTheMinutes() {
        EvalReport.Comparison c = EvalReport.of(threeMinutes(), null, null, null, null).comparison();
        double[] w = {400, 1200, 800};
        double[] d = {0.030, 0.020, 0.015};
        double[] v = {0.00010, 0.00004, 0.00009};
        double sw = w[0] + w[1] + w[2];
        double delta = (w[0] * d[0] + w[1] * d[1] + w[2] * d[2]) / sw;
        double var = (w[0] * w[0] * v[0] + w[1] * w[1] * v[1] + w[2] * w[2] * v[2]) / (sw * sw);
        assertThat(c.difference()).isCloseTo(delta, within(1e-12));
        assertThat(c.variance()).isCloseTo(var, within(1e-15));
        assertThat(c.low()).isCloseTo(delta - 1.959963984540054 * Math.sqrt(var), within(1e-12));
        assertThat(c.high()).isCloseTo(delta + 1.959963984540054 * Math.sqrt(var), within(1e-12));
        assertThat(c.paired()).isEqualTo(2400);
        assertThat(c.verdict()).isEqualTo(EvalReport.Verdict.BETTER);
        // the running estimate after the first minute is that minute alone
        assertThat(c.minutes().get(0).cumulativeDifference()).isEqualTo(0.030);
        assertThat(c.minutes().get(0).cumulativeVariance()).isCloseTo(0.00010, within(1e-15));
        assertThat(c.minutes().get(2).cumulativeDifference()).isCloseTo(delta, within(1e-12));
    }

    @Test
    void aWorseChallengerAndANoisyOneGetTheirVerdicts() {
        List<ModelEval> worse = new ArrayList<>();
        List<ModelEval> noisy = new ArrayList<>();
        for (int m = 0; m < 3; m++) {
            worse.add(champion("A", m, 1000, 200, 0.75, 200, 480));
            noisy.add(champion("A", m, 1000, 200, 0.75, 200, 480));
            worse.add(challenger("B", m, 1000, 200, 0.70, 200, 500, 1000L, -0.05, 0.0001));
            // a difference of +0.01 with a standard error of 0.03 per minute: zero is well inside
            noisy.add(challenger("B", m, 1000, 200, 0.76, 200, 470, 1000L, 0.01, 0.0009));
        }
        assertThat(EvalReport.of(worse, null, null, null, null).comparison().verdict()).isEqualTo(EvalReport.Verdict.WORSE);
        EvalReport.Comparison c = EvalReport.of(noisy, null, null, null, null).comparison();
        assertThat(c.verdict()).isEqualTo(EvalReport.Verdict.NO_SIGNIFICANT_DIFFERENCE);
        assertThat(c.low()).isNegative();
        assertThat(c.high()).isPositive();
    }

    @Test
    void aMinuteWrittenTwiceCountsOnce() {
        List<ModelEval> records = threeMinutes();
        records.add(champion("A", 1, 3000, 660, 0.72, 640.0, 1470.0)); // the same minute again (an at-least-once replay)
        records.add(challenger("B", 2, 800, 150, 0.72, 170.0, 370.0, 800L, 0.015, 0.00009));
        EvalReport report = EvalReport.of(records, null, null, null, null);
        assertThat(report.duplicates()).isEqualTo(2);
        assertThat(report.comparison().champion().labelled()).isEqualTo(6000);
        assertThat(report.comparison().paired()).isEqualTo(2400);
    }

    @Test
    void minutesWithoutAnEstimateOrWithoutTheChampionAreLeftOutAndCounted() {
        List<ModelEval> records = threeMinutes();
        records.add(challenger("B", 3, 50, 1, 0.9, 10, 20, 50L, 0.2, Double.NaN)); // one positive: no variance
        records.add(challenger("B", 4, 500, 100, 0.8, 100, 250, 500L, 0.2, 0.0001)); // no champion record that minute
        EvalReport.Comparison c = EvalReport.of(records, null, null, null, null).comparison();
        assertThat(c.minutes()).hasSize(3);
        assertThat(c.minutesWithoutEstimate()).isEqualTo(2);
        assertThat(c.paired()).isEqualTo(2400);
    }

    @Test
    void theRangeIsHalfOpenAndFingerprintsSelect() {
        List<ModelEval> records = threeMinutes();
        records.add(champion("C", 1, 10, 2, 0.5, 2, 5)); // a smaller champion: not picked by default
        EvalReport report = EvalReport.of(records, minute(1), minute(2), null, null);
        assertThat(report.recordsInRange()).isEqualTo(3);
        assertThat(report.recordsOutOfRange()).isEqualTo(4);
        assertThat(report.comparison().champion().fingerprint()).isEqualTo("A");
        assertThat(report.comparison().difference()).isEqualTo(0.020);
        assertThat(EvalReport.of(records, null, null, "C", "B").comparison().champion().labelled()).isEqualTo(10);
        assertThatThrownBy(() -> EvalReport.of(records, null, null, "nope", null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fingerprint nope");
        assertThatThrownBy(() -> EvalReport.of(records, minute(10), null, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no model-eval record");
    }

    @Test
    void histogramAucIsTheAucOfScoresReplacedByTheirBin() {
        Random random = new Random(7);
        int n = 2000;
        double[] p = new double[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextDouble() < 0.3 ? 1 : 0;
            p[i] = Math.min(0.999, Math.max(0, 0.3 + 0.2 * y[i] + 0.2 * random.nextGaussian()));
        }
        long[] pos = new long[BinaryMetrics.BINS];
        long[] neg = new long[BinaryMetrics.BINS];
        double[] binned = new double[n];
        for (int i = 0; i < n; i++) {
            (y[i] == 1 ? pos : neg)[BinaryMetrics.bin(p[i])]++;
            binned[i] = BinaryMetrics.bin(p[i]);
        }
        assertThat(EvalReport.histogramAuc(pos, neg)).isCloseTo(BinaryMetrics.auc(binned, y), within(1e-12));
        // and close to the raw scores' AUC: bins of 0.01 lose little
        assertThat(EvalReport.histogramAuc(pos, neg)).isCloseTo(BinaryMetrics.auc(p, y), within(0.01));
    }

    @Test
    void theUpgradeRuleNamesEachCondition() {
        EvalReport.Comparison c = EvalReport.of(threeMinutes(), null, null, null, null).comparison();
        // A's scores sit in bins 70 (positives) and 20, B's in 60 and 30: four bins, each empty on one side (share 1e-4)
        double[] a = {1240 / 6000.0, 4760 / 6000.0, 1e-4, 1e-4};
        double[] b = {1e-4, 1e-4, 490 / 2400.0, 1910 / 2400.0};
        double psi = 0;
        for (int i = 0; i < 4; i++) {
            psi += (b[i] - a[i]) * Math.log(b[i] / a[i]);
        }
        assertThat(c.psi()).isCloseTo(psi, within(1e-9));
        assertThat(c.psiMaxMinute()).isEqualTo(0.05);
        List<UpgradeRule.Check> lenient = new UpgradeRule(3, 2000, 0, 0.9, 1.3, 0.01, 100).apply(c);
        assertThat(lenient).extracting(UpgradeRule.Check::status).containsOnly(UpgradeRule.Status.PASS);
        assertThat(UpgradeRule.passes(lenient)).isTrue();
        // B's calibration is (90 + 250 + 170) / 490 = 1.041; four minutes wanted; NE of B below A's
        List<UpgradeRule.Check> strict = new UpgradeRule(4, 2000, 0, 0.9, 1.02, 0, 0.01).apply(c);
        assertThat(strict).extracting(k -> k.name() + " " + k.status()).containsExactly("minutes FAIL", "labelled PASS",
                "auc PASS", "calibration FAIL", "ne PASS", "psi REVIEW");
        assertThat(UpgradeRule.passes(strict)).isFalse();
    }
    /**
     * The interval covers the true difference about 95 % of the time, and the stratified estimate is
     * close to DeLong's over all the range's examples at once. Two models score the same examples:
     * s = μ·y + √ρ·z + √(1 − ρ)·e (z shared, e each model's own, all standard normal), so each AUC is
     * Φ(μ / √2) and B − A = Φ(1.2 / √2) − Φ(1 / √2) = 0.0416781 (computed with erf).
     */
    @Test
    void theIntervalCoversTheTrueDifferenceAboutNinetyFivePercentOfTheTime() {
        double truth = 0.04167810651743964;
        double rho = 0.6;
        Random random = new Random(19);
        int reps = 200;
        int minutes = 6;
        int covered = 0;
        double worstGap = 0;
        for (int rep = 0; rep < reps; rep++) {
            List<ModelEval> records = new ArrayList<>();
            List<double[]> allA = new ArrayList<>();
            List<double[]> allB = new ArrayList<>();
            List<int[]> allY = new ArrayList<>();
            for (int m = 0; m < minutes; m++) {
                int n = 150 + random.nextInt(300); // minutes of different traffic
                double[] a = new double[n];
                double[] b = new double[n];
                int[] y = new int[n];
                for (int i = 0; i < n; i++) {
                    y[i] = random.nextDouble() < 0.3 ? 1 : 0;
                    double z = random.nextGaussian();
                    a[i] = 1.0 * y[i] + Math.sqrt(rho) * z + Math.sqrt(1 - rho) * random.nextGaussian();
                    b[i] = 1.2 * y[i] + Math.sqrt(rho) * z + Math.sqrt(1 - rho) * random.nextGaussian();
                }
                BinaryMetrics.PairedAuc d = BinaryMetrics.delong(a, b, y);
                int positives = java.util.Arrays.stream(y).sum();
                records.add(champion("A", m, n, positives, d.aucA(), positives, n * 0.5));
                records.add(challenger("B", m, n, positives, d.aucB(), positives, n * 0.5, (long) n, d.difference(),
                        d.variance()));
                allA.add(a);
                allB.add(b);
                allY.add(y);
            }
            EvalReport.Comparison c = EvalReport.of(records, null, null, null, null).comparison();
            covered += c.low() <= truth && truth <= c.high() ? 1 : 0;
            BinaryMetrics.PairedAuc pooled = BinaryMetrics.delong(concat(allA), concat(allB), concatInts(allY));
            worstGap = Math.max(worstGap, Math.abs(c.difference() - pooled.difference()));
            assertThat(Math.sqrt(c.variance()) / Math.sqrt(pooled.variance())).isBetween(0.8, 1.25);
        }
        // 200 draws of a 95 % interval: 190 expected, binomial standard deviation 3
        assertThat(covered).isBetween(180, 199);
        assertThat(worstGap).isLessThan(0.01);
    }

    private static double[] concat(List<double[]> parts) {
        return parts.stream().flatMapToDouble(java.util.Arrays::stream).toArray();
    }

    private static int[] concatInts(List<int[]> parts) {
        return parts.stream().flatMapToInt(java.util.Arrays::stream).toArray();
    }
}

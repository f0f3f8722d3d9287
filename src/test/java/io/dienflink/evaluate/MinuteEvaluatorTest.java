package io.dienflink.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.ModelEval;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link MinuteEvaluator}: one ModelEval per model and minute, once the minute's last window closed,
 * with values equal to the metrics' definitions computed here over the known labelled scores (AUC
 * by counting pairs, log loss term by term, NE against the entropy of the click rate, PSI over the
 * bins' shares) and DeLong through {@link BinaryMetrics} over the paired candidates.
 */
class MinuteEvaluatorTest {
    static final long W = 60_000;
    static final long M0 = 1_800_000_000_000L;

    private KeyedOneInputStreamOperatorTestHarness<String, Labelled, ModelEval> harness;

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    private KeyedOneInputStreamOperatorTestHarness<String, Labelled, ModelEval> open(OperatorSubtaskState restore)
            throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new MinuteEvaluator(W)),
                Labelled::aggregationKey, Types.STRING);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    static Labelled row(String fp, boolean challenger, long minute, String request, long item, float score, int label,
                        float championScore) {
        Labelled l = new Labelled();
        l.fingerprint = fp;
        l.modelVersion = "v-" + fp;
        l.challenger = challenger;
        l.minute = minute;
        l.requestId = request;
        l.itemId = item;
        l.score = score;
        l.label = label;
        l.championScore = championScore;
        return l;
    }

    static Labelled dropMarker(String fp, boolean challenger, long minute, int n) {
        Labelled l = row(fp, challenger, minute, "d", 0, 0, 0, Float.NaN);
        l.dropped = n;
        return l;
    }

    /** AUC by its definition: P(score of a positive > score of a negative), ties one half. */
    static double aucByPairs(double[] p, int[] y) {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < p.length; j++) {
                if (y[i] == 1 && y[j] == 0) {
                    pairs++;
                    wins += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
                }
            }
        }
        return wins / pairs;
    }

    @Test
    void theEventTypesAreFlinkPojos() {
        assertThat(TypeInformation.of(EvalEvent.class)).isInstanceOf(PojoTypeInfo.class);
        assertThat(TypeInformation.of(Labelled.class)).isInstanceOf(PojoTypeInfo.class);
    }

    @Test
    void aMinuteIsEmittedOnceItsLastWindowClosedWithTheDefinitionsValues() throws Exception {
        harness = open(null);
        SplittableRandom rnd = new SplittableRandom(19);
        int n = 400;
        double[] pa = new double[n];
        double[] pb = new double[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextDouble() < 0.2 ? 1 : 0;
            // the champion sees the label better than the challenger; floats as the topics carry them
            pa[i] = (float) Math.min(0.99, Math.max(0.01, 0.15 + 0.3 * y[i] + 0.2 * (rnd.nextDouble() - 0.5)));
            pb[i] = (float) Math.min(0.99, Math.max(0.01, 0.2 + 0.1 * y[i] + 0.3 * (rnd.nextDouble() - 0.5)));
            harness.processElement(new StreamRecord<>(row("A", false, M0, "r" + i / 4, i, (float) pa[i], y[i], Float.NaN), M0 + W));
            harness.processElement(new StreamRecord<>(row("B", true, M0, "r" + i / 4, i, (float) pb[i], y[i], (float) pa[i]), M0 + W));
        }
        harness.processElement(new StreamRecord<>(dropMarker("A", false, M0, 7), M0 + 30));
        // the challenger scored 10 candidates the champion did not: counted for it, not paired
        double[] pbAll = java.util.Arrays.copyOf(pb, n + 10);
        int[] yb = java.util.Arrays.copyOf(y, n + 10);
        for (int i = n; i < n + 10; i++) {
            pbAll[i] = 0.5f;
            yb[i] = i % 2;
            harness.processElement(new StreamRecord<>(row("B", true, M0, "x" + i, i, 0.5f, yb[i], Float.NaN), M0 + W));
        }
        harness.processWatermark(new Watermark(M0 + 60_000 - 1 + W - 1));
        assertThat(harness.extractOutputValues()).as("a window of the minute may still be open").isEmpty();
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();
        harness = open(snapshot); // the minute's rows are state, not memory
        harness.processWatermark(new Watermark(M0 + 60_000 - 1 + W));
        List<ModelEval> out = harness.extractOutputValues();
        assertThat(out).hasSize(2);
        ModelEval a = out.stream().filter(e -> e.getRole().equals("champion")).findFirst().orElseThrow();
        ModelEval b = out.stream().filter(e -> e.getRole().equals("challenger")).findFirst().orElseThrow();

        checkModel(a, "A", pa, y);
        assertThat(a.getDroppedPending()).isEqualTo(7);
        assertThat(a.getPsi()).isNull();
        assertThat(a.getAucDifference()).isNull();
        checkModel(b, "B", pbAll, yb);
        assertThat(b.getDroppedPending()).isZero();
        assertThat(b.getPaired()).isEqualTo(n);
        // PSI by its definition over the paired candidates' bins
        long[] ha = new long[100];
        long[] hb = new long[100];
        for (int i = 0; i < n; i++) {
            ha[Math.min(99, (int) (pa[i] * 100))]++;
            hb[Math.min(99, (int) (pb[i] * 100))]++;
        }
        double psi = 0;
        for (int k = 0; k < 100; k++) {
            double e = Math.max(1e-4, ha[k] / (double) n);
            double c = Math.max(1e-4, hb[k] / (double) n);
            psi += (c - e) * Math.log(c / e);
        }
        assertThat(b.getPsi()).isCloseTo(psi, within(1e-12));
        assertThat(b.getAucDifference()).isCloseTo(aucByPairs(pb, y) - aucByPairs(pa, y), within(1e-12));
        assertThat(b.getAucDifferenceVariance()).isEqualTo(BinaryMetrics.delong(pa, pb, y).variance());
        assertThat(b.getAucDifference()).isNegative(); // the worse challenger

        harness.processWatermark(new Watermark(M0 + 10 * W));
        assertThat(harness.extractOutputValues()).as("each minute once").hasSize(2);
    }

    private static void checkModel(ModelEval e, String fp, double[] p, int[] y) {
        int n = p.length;
        long positives = java.util.Arrays.stream(y).sum();
        double sumLogLoss = 0;
        double sumPredicted = 0;
        for (int i = 0; i < n; i++) {
            sumLogLoss += y[i] == 1 ? -Math.log(p[i]) : -Math.log(1 - p[i]); // no score is near 0 or 1: no clipping
            sumPredicted += p[i];
        }
        double rate = positives / (double) n;
        double entropy = -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
        assertThat(e.getModelFingerprint()).isEqualTo(fp);
        assertThat(e.getModelVersion()).isEqualTo("v-" + fp);
        assertThat(e.getMinute().toEpochMilli()).isEqualTo(M0);
        assertThat(e.getLabelled()).isEqualTo(n);
        assertThat(e.getPositives()).isEqualTo(positives);
        assertThat(e.getAuc()).isCloseTo(aucByPairs(p, y), within(1e-12));
        assertThat(e.getLogLoss()).isCloseTo(sumLogLoss / n, within(1e-12));
        assertThat(e.getSumLogLoss()).isCloseTo(sumLogLoss, within(1e-9));
        assertThat(e.getNormalizedEntropy()).isCloseTo(sumLogLoss / n / entropy, within(1e-12));
        assertThat(e.getSumPredicted()).isCloseTo(sumPredicted, within(1e-9));
        assertThat(e.getCalibration()).isCloseTo(sumPredicted / positives, within(1e-12));
        assertThat(e.getPositiveHistogram().stream().mapToLong(Long::longValue).sum()).isEqualTo(positives);
        assertThat(e.getNegativeHistogram().stream().mapToLong(Long::longValue).sum()).isEqualTo(n - positives);
    }

    @Test
    void minutesAndModelsAreSeparateAndAMinuteOfOnlyDropsIsStillReported() throws Exception {
        harness = open(null);
        harness.processElement(new StreamRecord<>(row("A", false, M0, "r1", 1, .3f, 1, Float.NaN), M0 + W));
        harness.processElement(new StreamRecord<>(row("A", false, M0, "r1", 2, .1f, 0, Float.NaN), M0 + W));
        harness.processElement(new StreamRecord<>(row("A", false, M0 + 60_000, "r2", 1, .3f, 0, Float.NaN), M0 + 2 * W));
        harness.processElement(new StreamRecord<>(dropMarker("C", false, M0, 4), M0));
        harness.processWatermark(new Watermark(MinuteEvaluator.closes(M0, W)));
        List<ModelEval> out = new ArrayList<>(harness.extractOutputValues());
        assertThat(out).extracting(e -> e.getModelFingerprint() + "/" + e.getLabelled() + "/" + e.getDroppedPending())
                .containsExactlyInAnyOrder("A/2/0", "C/0/4");
        ModelEval onlyDrops = out.stream().filter(e -> e.getModelFingerprint().equals("C")).findFirst().orElseThrow();
        assertThat(onlyDrops.getAuc()).isNaN();
        assertThat(onlyDrops.getSumLogLoss()).isZero();
        harness.processWatermark(new Watermark(MinuteEvaluator.closes(M0 + 60_000, W)));
        assertThat(harness.extractOutputValues()).hasSize(3);
        assertThat(harness.extractOutputValues().get(2).getMinute().toEpochMilli()).isEqualTo(M0 + 60_000);
        assertThat(harness.extractOutputValues().get(2).getAuc()).isNaN(); // one class only
    }
}

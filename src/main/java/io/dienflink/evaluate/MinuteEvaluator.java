package io.dienflink.evaluate;

import io.dienflink.avro.ModelEval;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * One model's (fingerprint and role) minute of request event time, keyed by
 * {@link Labelled#aggregationKey()}: collects the minute's labelled scores and drop markers and,
 * once the watermark says every window of the minute closed (minute end + attribution window), emits
 * one {@link ModelEval} computed with {@link BinaryMetrics} and clears the minute.
 *
 * <p>Flink metrics per model, under the groups {@code fingerprint} and {@code role}: gauges
 * {@code auc}, {@code logLoss}, {@code normalizedEntropy}, {@code calibration} and {@code labelled}
 * of the newest minute emitted; {@code lateLabels} counts labels that reached an emitted minute
 * (none should: labels are emitted before the watermark that closes their minute).
 */
public final class MinuteEvaluator extends KeyedProcessFunction<String, Labelled, ModelEval> {
    private static final long MINUTE = 60_000L;
    /** How long (event time) an emitted minute is remembered, so that a late label cannot emit it again. */
    static final long EMITTED_MEMORY_MS = 3_600_000L;

    private final long windowMs;
    private transient ListState<Labelled> rows;
    private transient ValueState<Long> dropped;
    private transient ValueState<Boolean> emitted;
    private transient Map<String, double[]> lastMinute;
    private transient Counter lateLabels;

    public MinuteEvaluator(long windowMs) {
        this.windowMs = windowMs;
    }

    @Override
    public void open(OpenContext openContext) {
        rows = getRuntimeContext().getListState(new ListStateDescriptor<>("labelled", TypeInformation.of(Labelled.class)));
        dropped = getRuntimeContext().getState(new ValueStateDescriptor<>("dropped", Types.LONG));
        emitted = getRuntimeContext().getState(new ValueStateDescriptor<>("emitted", Types.BOOLEAN));
        lastMinute = new HashMap<>();
        lateLabels = getRuntimeContext().getMetricGroup().counter("lateLabels");
    }

    /** When the minute starting at {@code minute} is final: its last request's window closed. */
    public static long closes(long minute, long windowMs) {
        return minute + MINUTE - 1 + windowMs;
    }

    @Override
    public void processElement(Labelled l, Context ctx, Collector<ModelEval> out) throws Exception {
        if (Boolean.TRUE.equals(emitted.value())) {
            lateLabels.inc();
            return;
        }
        if (l.dropped > 0) {
            dropped.update((dropped.value() == null ? 0 : dropped.value()) + l.dropped);
        } else {
            rows.add(l);
        }
        ctx.timerService().registerEventTimeTimer(closes(l.minute, windowMs));
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ModelEval> out) throws Exception {
        if (Boolean.TRUE.equals(emitted.value())) { // the cleanup timer of an emitted minute
            emitted.clear();
            return;
        }
        List<Labelled> minute = new ArrayList<>();
        rows.get().forEach(minute::add);
        long droppedCandidates = dropped.value() == null ? 0 : dropped.value();
        String key = ctx.getCurrentKey();
        String[] parts = key.split("\\|");
        String fingerprint = parts[0];
        boolean challenger = parts[1].equals("challenger");
        long minuteStart = Long.parseLong(parts[2]);
        String version = minute.isEmpty() ? "" : minute.get(0).modelVersion;
        ModelEval eval = evaluate(fingerprint, version, challenger, minuteStart, minute, droppedCandidates);
        out.collect(eval);
        double[] g = gauges(fingerprint, eval.getRole());
        g[0] = eval.getAuc();
        g[1] = eval.getLogLoss();
        g[2] = eval.getNormalizedEntropy();
        g[3] = eval.getCalibration();
        g[4] = eval.getLabelled();
        rows.clear();
        dropped.clear();
        // remembered for an hour: a label for this minute now would be a late one, counted, not a second ModelEval
        emitted.update(true);
        ctx.timerService().registerEventTimeTimer(timestamp + EMITTED_MEMORY_MS);
    }

    /**
     * The ModelEval of one model's minute from its labelled scores: every value through
     * {@link BinaryMetrics}, so online and offline numbers agree.
     */
    public static ModelEval evaluate(String fingerprint, String version, boolean challenger, long minute,
                                     List<Labelled> rows, long droppedCandidates) {
        int n = rows.size();
        double[] p = new double[n];
        int[] y = new int[n];
        long positives = 0;
        double sumPredicted = 0;
        long[] posHist = new long[BinaryMetrics.BINS];
        long[] negHist = new long[BinaryMetrics.BINS];
        for (int i = 0; i < n; i++) {
            p[i] = rows.get(i).score;
            y[i] = rows.get(i).label;
            positives += y[i];
            sumPredicted += p[i];
            (y[i] == 1 ? posHist : negHist)[BinaryMetrics.bin(p[i])]++;
        }
        double logLoss = BinaryMetrics.logLoss(p, y);
        ModelEval.Builder b = ModelEval.newBuilder()
                .setModelFingerprint(fingerprint)
                .setModelVersion(version)
                .setRole(challenger ? "challenger" : "champion")
                .setMinute(Instant.ofEpochMilli(minute))
                .setLabelled(n)
                .setPositives(positives)
                .setAuc(BinaryMetrics.auc(p, y))
                .setLogLoss(logLoss)
                .setNormalizedEntropy(BinaryMetrics.normalizedEntropy(logLoss, positives, n))
                .setCalibration(BinaryMetrics.calibration(sumPredicted, positives))
                .setSumPredicted(sumPredicted)
                .setSumLogLoss(n == 0 ? 0 : logLoss * n)
                .setPositiveHistogram(boxed(posHist))
                .setNegativeHistogram(boxed(negHist))
                .setDroppedPending(droppedCandidates)
                .setPsi(null)
                .setPaired(0)
                .setAucDifference(null)
                .setAucDifferenceVariance(null);
        if (challenger) {
            int m = 0;
            for (Labelled r : rows) {
                m += Float.isNaN(r.championScore) ? 0 : 1;
            }
            double[] champion = new double[m];
            double[] own = new double[m];
            int[] py = new int[m];
            for (int i = 0, j = 0; i < n; i++) {
                Labelled r = rows.get(i);
                if (!Float.isNaN(r.championScore)) {
                    champion[j] = r.championScore;
                    own[j] = r.score;
                    py[j] = r.label;
                    j++;
                }
            }
            b.setPaired(m);
            if (m > 0) {
                b.setPsi(BinaryMetrics.psi(BinaryMetrics.histogram(champion), BinaryMetrics.histogram(own)));
                BinaryMetrics.PairedAuc d = BinaryMetrics.delong(champion, own, py);
                b.setAucDifference(d.difference());
                b.setAucDifferenceVariance(d.variance());
            }
        }
        return b.build();
    }

    private static List<Long> boxed(long[] h) {
        return Arrays.stream(h).boxed().toList();
    }

    /** The gauges' values of one model: auc, log loss, NE, calibration, labelled. */
    private double[] gauges(String fingerprint, String role) {
        return lastMinute.computeIfAbsent(fingerprint + "|" + role, k -> {
            double[] v = {Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0};
            MetricGroup g = getRuntimeContext().getMetricGroup().addGroup("fingerprint", fingerprint).addGroup("role", role);
            g.gauge("auc", (Gauge<Double>) () -> v[0]);
            g.gauge("logLoss", (Gauge<Double>) () -> v[1]);
            g.gauge("normalizedEntropy", (Gauge<Double>) () -> v[2]);
            g.gauge("calibration", (Gauge<Double>) () -> v[3]);
            g.gauge("labelled", (Gauge<Long>) () -> (long) v[4]);
            return v;
        });
    }
}

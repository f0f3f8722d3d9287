package io.dienflink.evaluate;

import io.dienflink.avro.ServingLog;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The labelling operator, keyed by user: keeps each scored request (every model's scores of it,
 * and its serving-log record) pending until its attribution window closes in event time, with the
 * user's clicks and impressions of that time, then labels it by {@link Attribution} and emits one
 * {@link Labelled} per labelled candidate and model, and the serving-log record with its labels
 * (side output {@link #LABELLED_LOG}).
 *
 * <p>Window close: an event-time timer at request time + window fires once the watermark (the
 * minimum over every input partition's) says no click of the window can still come on time. A
 * request's records that arrive after their window closed are late: counted
 * ({@code lateScores}, {@code lateServingLogs}), not labelled. The same model's scores of a request
 * seen twice (an at-least-once scoring job) are labelled once ({@code duplicateScores}).
 *
 * <p>Bound: at most {@code maxPending} requests per user wait; beyond it the oldest (request time,
 * then id) is dropped, its scored candidates emitted as a drop marker for their minute's
 * {@code dropped_pending} and counted ({@code droppedPending}, {@code droppedServingLogs}).
 *
 * <p>Metrics: {@code labelledCandidates}, {@code notShownCandidates} besides those above.
 */
public final class Labeller extends KeyedProcessFunction<Long, EvalEvent, Labelled> {
    /** The serving-log records, labels attached, once their window closed. */
    public static final OutputTag<ServingLog> LABELLED_LOG =
            new OutputTag<>("labelled-serving-log", TypeInformation.of(ServingLog.class));

    private final long windowMs;
    private final int maxPending;
    private final boolean impressions;

    /** requestId \n role \n fingerprint → that model's scores of the request. */
    private transient MapState<String, EvalEvent> scores;
    /** requestId → its serving-log record. */
    private transient MapState<String, EvalEvent> logs;
    /** requestId → request time: the pending set the bound counts. */
    private transient MapState<String, Long> pending;
    private transient ValueState<Integer> pendingCount;
    /** requestId → its impression. */
    private transient MapState<String, EvalEvent> shown;
    private transient ListState<EvalEvent> clicks;

    private transient Counter labelled;
    private transient Counter notShown;
    private transient Counter droppedPending;
    private transient Counter droppedServingLogs;
    private transient Counter lateScores;
    private transient Counter lateServingLogs;
    private transient Counter duplicateScores;

    /**
     * @param windowMs the attribution window
     * @param maxPending most pending requests per user
     * @param impressions whether impressions are read (then only shown candidates are labelled)
     */
    public Labeller(long windowMs, int maxPending, boolean impressions) {
        this.windowMs = windowMs;
        this.maxPending = maxPending;
        this.impressions = impressions;
    }

    @Override
    public void open(OpenContext openContext) {
        TypeInformation<EvalEvent> event = TypeInformation.of(EvalEvent.class);
        scores = getRuntimeContext().getMapState(new MapStateDescriptor<>("scores", Types.STRING, event));
        logs = getRuntimeContext().getMapState(new MapStateDescriptor<>("serving-logs", Types.STRING, event));
        pending = getRuntimeContext().getMapState(new MapStateDescriptor<>("pending", Types.STRING, Types.LONG));
        pendingCount = getRuntimeContext().getState(new ValueStateDescriptor<>("pending-count", Types.INT));
        shown = getRuntimeContext().getMapState(new MapStateDescriptor<>("impressions", Types.STRING, event));
        clicks = getRuntimeContext().getListState(new ListStateDescriptor<>("clicks", event));
        var metrics = getRuntimeContext().getMetricGroup();
        labelled = metrics.counter("labelledCandidates");
        notShown = metrics.counter("notShownCandidates");
        droppedPending = metrics.counter("droppedPending");
        droppedServingLogs = metrics.counter("droppedServingLogs");
        lateScores = metrics.counter("lateScores");
        lateServingLogs = metrics.counter("lateServingLogs");
        duplicateScores = metrics.counter("duplicateScores");
    }

    @Override
    public void processElement(EvalEvent e, Context ctx, Collector<Labelled> out) throws Exception {
        long watermark = ctx.timerService().currentWatermark();
        switch (e.kind) {
            case EvalEvent.SCORE, EvalEvent.SERVING_LOG -> {
                boolean score = e.kind == EvalEvent.SCORE;
                if (e.time + windowMs <= watermark) { // its window closed: the clicks it needed are gone
                    (score ? lateScores : lateServingLogs).inc();
                    return;
                }
                MapState<String, EvalEvent> target = score ? scores : logs;
                String key = score ? scoreKey(e) : e.requestId;
                if (target.contains(key)) {
                    if (score) {
                        duplicateScores.inc();
                    }
                    return;
                }
                if (!pending.contains(e.requestId)) {
                    int n = pendingCount.value() == null ? 0 : pendingCount.value();
                    if (n >= maxPending) {
                        String oldest = oldestPending();
                        if (pending.get(oldest) < e.time || (pending.get(oldest) == e.time && oldest.compareTo(e.requestId) < 0)) {
                            drop(oldest, out);
                            n--;
                        } else { // the new request is the oldest: it is the one dropped
                            dropEvent(e, out);
                            return;
                        }
                    }
                    pending.put(e.requestId, e.time);
                    pendingCount.update(n + 1);
                    ctx.timerService().registerEventTimeTimer(e.time + windowMs);
                }
                target.put(key, e);
            }
            case EvalEvent.CLICK -> {
                if (e.time + windowMs > watermark) { // else no open window can contain it
                    clicks.add(e);
                    ctx.timerService().registerEventTimeTimer(e.time + windowMs);
                }
            }
            case EvalEvent.IMPRESSION -> {
                if (!shown.contains(e.requestId)) {
                    shown.put(e.requestId, e);
                    ctx.timerService().registerEventTimeTimer(e.time + 2 * windowMs);
                }
            }
            default -> throw new IllegalStateException("unknown event kind " + e.kind);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Labelled> out) throws Exception {
        // every request whose window closed, in request time order (deterministic output)
        TreeMap<String, List<EvalEvent>> dueScores = new TreeMap<>();
        List<String> doneKeys = new ArrayList<>();
        for (Map.Entry<String, EvalEvent> en : scores.entries()) {
            if (en.getValue().time + windowMs <= timestamp) {
                dueScores.computeIfAbsent(en.getValue().requestId, k -> new ArrayList<>()).add(en.getValue());
                doneKeys.add(en.getKey());
            }
        }
        Map<String, EvalEvent> dueLogs = new HashMap<>();
        for (EvalEvent log : logs.values()) {
            if (log.time + windowMs <= timestamp) {
                dueLogs.put(log.requestId, log);
            }
        }
        if (!dueScores.isEmpty() || !dueLogs.isEmpty()) {
            List<EvalEvent> userClicks = new ArrayList<>();
            clicks.get().forEach(userClicks::add);
            long[] clickTimes = userClicks.stream().mapToLong(c -> c.time).toArray();
            long[] clickItems = userClicks.stream().mapToLong(c -> c.items[0]).toArray();
            java.util.TreeSet<String> requests = new java.util.TreeSet<>(dueScores.keySet());
            requests.addAll(dueLogs.keySet());
            int removed = 0;
            for (String requestId : requests) {
                long[] shownItems = null;
                if (impressions) {
                    EvalEvent imp = shown.get(requestId);
                    shownItems = imp == null ? new long[0] : imp.items;
                    shown.remove(requestId);
                }
                label(dueScores.getOrDefault(requestId, List.of()), clickTimes, clickItems, shownItems, out);
                EvalEvent log = dueLogs.get(requestId);
                if (log != null) {
                    int[] y = Attribution.labels(log.items, log.time, windowMs, clickTimes, clickItems, shownItems);
                    ServingLog record = log.decodeServingLog();
                    List<Integer> labels = new ArrayList<>(y.length);
                    for (int v : y) {
                        labels.add(v);
                    }
                    record.setLabels(labels);
                    ctx.output(LABELLED_LOG, record);
                    logs.remove(requestId);
                }
                if (pending.contains(requestId)) {
                    pending.remove(requestId);
                    removed++;
                }
            }
            for (String k : doneKeys) {
                scores.remove(k);
            }
            if (removed > 0) {
                pendingCount.update(pendingCount.value() - removed);
            }
        }
        // clicks that no open or future on-time window can contain any more
        List<EvalEvent> keep = new ArrayList<>();
        boolean changed = false;
        for (EvalEvent c : clicks.get()) {
            if (c.time + windowMs > timestamp) {
                keep.add(c);
            } else {
                changed = true;
            }
        }
        if (changed) {
            clicks.update(keep);
        }
        // impressions whose request never came (or was dropped)
        List<String> stale = new ArrayList<>();
        for (Map.Entry<String, EvalEvent> en : shown.entries()) {
            if (en.getValue().time + 2 * windowMs <= timestamp) {
                stale.add(en.getKey());
            }
        }
        for (String k : stale) {
            shown.remove(k);
        }
    }

    /** Labels every model's scores of one request; a challenger's are paired with the champion's. */
    private void label(List<EvalEvent> models, long[] clickTimes, long[] clickItems, long[] shownItems,
                       Collector<Labelled> out) {
        if (models.isEmpty()) {
            return;
        }
        models.sort(Comparator.comparing((EvalEvent m) -> m.challenger).thenComparing(m -> m.fingerprint));
        Map<Long, Float> champion = null;
        if (!models.get(0).challenger) {
            EvalEvent c = models.get(0);
            champion = new HashMap<>();
            for (int i = 0; i < c.items.length; i++) {
                champion.putIfAbsent(c.items[i], c.scores[i]);
            }
        }
        for (EvalEvent m : models) {
            int[] y = Attribution.labels(m.items, m.time, windowMs, clickTimes, clickItems, shownItems);
            for (int i = 0; i < y.length; i++) {
                if (y[i] == Attribution.NOT_SHOWN) {
                    notShown.inc();
                    continue;
                }
                Labelled l = base(m);
                l.itemId = m.items[i];
                l.score = m.scores[i];
                l.label = y[i];
                if (m.challenger && champion != null) {
                    l.championScore = champion.getOrDefault(m.items[i], Float.NaN);
                }
                out.collect(l);
                labelled.inc();
            }
        }
    }

    private static Labelled base(EvalEvent m) {
        Labelled l = new Labelled();
        l.fingerprint = m.fingerprint;
        l.modelVersion = m.modelVersion;
        l.challenger = m.challenger;
        l.minute = Labelled.minuteOf(m.time);
        l.requestId = m.requestId;
        return l;
    }

    private String oldestPending() throws Exception {
        String oldest = null;
        long oldestTime = Long.MAX_VALUE;
        for (Map.Entry<String, Long> en : pending.entries()) {
            if (en.getValue() < oldestTime || (en.getValue() == oldestTime && en.getKey().compareTo(oldest) < 0)) {
                oldest = en.getKey();
                oldestTime = en.getValue();
            }
        }
        return oldest;
    }

    /** Drops a pending request: its scores become drop markers, its serving-log record is counted. */
    private void drop(String requestId, Collector<Labelled> out) throws Exception {
        List<String> keys = new ArrayList<>();
        for (Iterator<Map.Entry<String, EvalEvent>> it = scores.iterator(); it.hasNext(); ) {
            Map.Entry<String, EvalEvent> en = it.next();
            if (en.getValue().requestId.equals(requestId)) {
                keys.add(en.getKey());
                dropEvent(en.getValue(), out);
            }
        }
        for (String k : keys) {
            scores.remove(k);
        }
        if (logs.contains(requestId)) {
            logs.remove(requestId);
            droppedServingLogs.inc();
        }
        pending.remove(requestId);
    }

    private void dropEvent(EvalEvent e, Collector<Labelled> out) {
        if (e.kind == EvalEvent.SERVING_LOG) {
            droppedServingLogs.inc();
            return;
        }
        Labelled marker = base(e);
        marker.dropped = e.items.length;
        droppedPending.inc(e.items.length);
        out.collect(marker);
    }

    private static String scoreKey(EvalEvent e) {
        return e.requestId + '\n' + (e.challenger ? 'c' : 'C') + '\n' + e.fingerprint;
    }
}

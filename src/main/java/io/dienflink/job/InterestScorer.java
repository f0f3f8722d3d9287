package io.dienflink.job;

import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.DeadLetterReason;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Ring;
import io.dienflink.model.Semantics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keyed two-input operator: per user it keeps the DIEN interest state, advances it by one
 * extractor step per click and scores each ad request against it. State, timers and metrics live
 * here; the math is the model core's ({@link DienScorer}, {@link InterestState}).
 *
 * <p>State layout, chosen by measurement (docs/benchmarks.md): a small {@link UserHeader} value per
 * user (newest extractor state, ring position, recent event ids, expiry bookkeeping) and one
 * {@link ClickEntry} map entry per stored click, keyed by ring slot. A click reads and writes the
 * header and writes one entry; a request reads the header and iterates the entries, unless the
 * user's window is in the subtask's {@link UserWindowCache} of recently scored users and matches the
 * header (the cache is updated by clicks and never checkpointed).
 *
 * <p>Semantics: clicks and requests of a user are processed in the order they reach this operator
 * (each topic keeps a user's order when partitioned by user id); a click whose event id is among the
 * user's last {@code dedupWindow} is applied once; a request for a user without state is scored
 * against an empty history; a user with neither click nor request for {@code inactivityExpiry}
 * (processing time) is removed by a timer; states computed by another model are rebuilt from the
 * stored raw clicks on the user's next event.
 */
public final class InterestScorer extends KeyedCoProcessFunction<Long, Click, ScoreRequest, CtrScore> {
    private static final Logger LOG = LoggerFactory.getLogger(InterestScorer.class);
    private static final long MAX_ACTIVITY_BUCKET_MS = 3_600_000L;

    private final String modelPath;
    private final String expectedFingerprint;
    private final long inactivityMs;
    private final int dedupWindow;
    private final long maxAgeMs;
    private final int windowCacheUsers;

    private transient DienModel model;
    private transient DienScorer scorer;
    /** The user being scored, reloaded in place on each request (scoring only reads it). */
    private transient InterestState loaded;
    private transient long bucketMs;
    private transient ValueState<UserHeader> header;
    private transient MapState<Integer, ClickEntry> window;
    private transient float[] ctr;
    private transient Counter clicks;
    private transient Counter requests;
    private transient Counter duplicateClicks;
    private transient Counter stateRebuilds;
    private transient Counter expiredUsers;
    private transient Counter corruptUsers;
    private transient Counter expiredRequests;
    /** Expired requests' dead letters, counted in deadLetters{reason=expired} like the decoders' ones. */
    private transient DeadLetterRouting deadLetters;
    private transient UnknownIdCounters unknownIds;
    private transient Histogram scoreLatencyMs;
    private transient Histogram historyLength;
    /** Recently scored users' windows, or null when {@code dien.state.window-cache.users} is 0. */
    private transient UserWindowCache cache;

    /**
     * @param expectedFingerprint the bundle fingerprint validated at submission, or null to accept any
     * @param maxAgeMs requests older than this when they arrive are dead-lettered as expired (counted in
     *     {@code expiredRequests} and in {@code deadLetters} of the group {@code reason=expired}); 0: never
     */
    public InterestScorer(String modelPath, String expectedFingerprint, long inactivityMs, int dedupWindow, long maxAgeMs) {
        this(modelPath, expectedFingerprint, inactivityMs, dedupWindow, maxAgeMs, 0);
    }

    /**
     * @param windowCacheUsers recently scored users whose loaded windows each subtask keeps on the heap
     *     ({@link UserWindowCache}); 0: none, every request loads the window from state
     */
    public InterestScorer(String modelPath, String expectedFingerprint, long inactivityMs, int dedupWindow, long maxAgeMs,
                          int windowCacheUsers) {
        if (windowCacheUsers < 0) {
            throw new IllegalArgumentException("windowCacheUsers must not be negative: " + windowCacheUsers);
        }
        this.windowCacheUsers = windowCacheUsers;
        this.modelPath = modelPath;
        this.expectedFingerprint = expectedFingerprint;
        this.inactivityMs = inactivityMs;
        this.dedupWindow = dedupWindow;
        this.maxAgeMs = maxAgeMs;
    }

    /** The header state's descriptor (also used by the State Processor API). */
    public static ValueStateDescriptor<UserHeader> headerDescriptor() {
        return new ValueStateDescriptor<>("user-header", StateSerializers.UserHeaderSerializer.INSTANCE);
    }

    /** The window state's descriptor: ring slot → click entry. */
    public static MapStateDescriptor<Integer, ClickEntry> windowDescriptor() {
        return new MapStateDescriptor<>("user-window", IntSerializer.INSTANCE, StateSerializers.ClickEntrySerializer.INSTANCE);
    }

    @Override
    public void open(OpenContext openContext) {
        model = SharedModels.get(modelPath, expectedFingerprint, true);
        scorer = model.newScorer();
        loaded = scorer.newState();
        // Expiry runs at this granularity, so a busy user rewrites its header at most once per bucket.
        bucketMs = Math.max(1, Math.min(MAX_ACTIVITY_BUCKET_MS, inactivityMs / 24));
        header = getRuntimeContext().getState(headerDescriptor());
        window = getRuntimeContext().getMapState(windowDescriptor());
        ctr = new float[16];
        MetricGroup m = getRuntimeContext().getMetricGroup();
        clicks = m.counter("clicks");
        m.meter("clicksPerSecond", new MeterView(clicks));
        requests = m.counter("requests");
        m.meter("requestsPerSecond", new MeterView(requests));
        duplicateClicks = m.counter("duplicateClicks");
        stateRebuilds = m.counter("stateRebuilds");
        expiredUsers = m.counter("expiredUsers");
        corruptUsers = m.counter("corruptUsers");
        expiredRequests = m.counter("expiredRequests");
        deadLetters = new DeadLetterRouting(getRuntimeContext());
        unknownIds = new UnknownIdCounters(model,
                (table, input) -> m.addGroup("table", table).addGroup("input", input).counter("unknownIds"));
        scoreLatencyMs = m.histogram("scoreLatencyMs", new DescriptiveStatisticsHistogram(10_000));
        historyLength = m.histogram("historyLength", new DescriptiveStatisticsHistogram(10_000));
        if (windowCacheUsers > 0) {
            UserWindowCache c = new UserWindowCache(windowCacheUsers);
            cache = c;
            m.gauge("windowCacheHitRate", (Gauge<Double>) c::hitRate);
            m.gauge("windowCacheHits", (Gauge<Long>) c::hits);
            m.gauge("windowCacheMisses", (Gauge<Long>) c::misses);
            m.gauge("windowCacheUsers", (Gauge<Integer>) c::size);
        }
    }

    @Override
    public void processElement1(Click click, Context ctx, Collector<CtrScore> out) throws Exception {
        clicks.inc();
        UserHeader h = readHeader(ctx);
        long eventHash = click.eventHash();
        if (h != null) {
            h.resizeRecent(dedupWindow);
        }
        // Before any rebuild: a duplicate must leave the stored user exactly as it was, and a
        // rebuild that is not followed by header.update would leave the entries and header apart.
        if (h != null && h.seen(eventHash)) {
            duplicateClicks.inc();
            return;
        }
        if (h == null) {
            h = UserHeader.fresh(model.fingerprint64(), model.config().maxHistory(), model.config().hiddenDim(), dedupWindow);
        } else if (h.modelFingerprint != model.fingerprint64()) {
            invalidateCached(ctx);
            UserWindows.Rebuilt rebuilt = rebuildOrReset(h, ctx);
            h = rebuilt != null ? rebuilt.header()
                    : UserHeader.fresh(model.fingerprint64(), model.config().maxHistory(), model.config().hiddenDim(), dedupWindow);
        }
        unknownIds.count(click);
        h.remember(eventHash);
        scorer.advance(h.lastState, click.itemId(), click.categoryId());
        int slot = h.next;
        ClickEntry entry = new ClickEntry(click.itemId(), click.categoryId(), h.lastState.clone());
        window.put(slot, entry);
        h.next = Ring.after(h.next, h.capacity);
        h.count = Ring.grown(h.count, h.capacity);
        h.totalClicks++;
        touch(h, ctx);
        header.update(h);
        if (cache != null) { // after the state writes: the cached copy follows what was stored
            cache.clicked(ctx.getCurrentKey(), h, slot, entry.itemId, entry.categoryId, entry.state);
        }
    }

    @Override
    public void processElement2(ScoreRequest request, Context ctx, Collector<CtrScore> out) throws Exception {
        requests.inc();
        long arrived = ctx.timerService().currentProcessingTime();
        if (maxAgeMs > 0 && arrived - request.eventTime() > maxAgeMs) {
            // Nobody waits for this score any more (the ad server gave up long ago): scoring it would
            // only delay the fresh requests behind it. It touches no state.
            expiredRequests.inc();
            // the routing every other dead letter takes, so that deadLetters{reason=expired} counts it too
            deadLetters.route(ctx, request.asRawRecord(), DeadLetterReason.EXPIRED,
                    "request " + request.requestId() + " of user " + request.userId() + " was "
                            + (arrived - request.eventTime()) + " ms old when it reached the scorer; "
                            + "dien.request.max-age is " + maxAgeMs + " ms");
            return;
        }
        unknownIds.count(request);
        UserHeader h = readHeader(ctx);
        InterestState state = null;
        if (h != null && h.modelFingerprint != model.fingerprint64()) {
            invalidateCached(ctx);
            UserWindows.Rebuilt rebuilt = rebuildOrReset(h, ctx);
            if (rebuilt != null) {
                h = rebuilt.header();
                state = rebuilt.state();
                touch(h, ctx);
                header.update(h);
            }
        } else if (h != null) {
            state = cache != null ? cache.get(ctx.getCurrentKey(), h) : null;
            if (state == null) {
                try {
                    state = UserWindows.load(h, window.entries(), cache != null ? cache.spare(scorer::newState) : loaded);
                    if (cache != null) {
                        cache.put(ctx.getCurrentKey(), h, state);
                    }
                } catch (RuntimeException e) {
                    resetIfCorrupt(e, ctx);
                }
            }
            if (state != null && touch(h, ctx)) {
                header.update(h);
            }
        }
        if (state == null) { // no user, or one that was reset: an empty history
            state = loaded;
            state.reset(model.fingerprint64(), model.config().maxHistory(), model.config().hiddenDim(), 0, 0, 0);
        }
        int n = request.itemIds().length;
        if (ctr.length < n) {
            ctr = new float[Math.max(n, 2 * ctr.length)];
        }
        state.score(scorer, request.userId(), request.itemIds(), request.categoryIds(), n, Semantics.STREAMING, ctr);
        List<CandidateScore> scores = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            scores.add(new CandidateScore(request.itemIds()[i], ctr[i]));
        }
        long now = System.currentTimeMillis();
        out.collect(CtrScore.newBuilder()
                .setRequestId(request.requestId())
                .setUserId(request.userId())
                .setModelVersion(model.modelVersion())
                .setModelFingerprint(model.fingerprint())
                .setScores(scores)
                .setHistoryLength(state.windowLength())
                .setClicksApplied(state.totalClicks())
                .setRequestTime(Instant.ofEpochMilli(request.eventTime()))
                .setScoredAt(Instant.ofEpochMilli(now))
                .build());
        scoreLatencyMs.update(Math.max(0, now - request.eventTime()));
        historyLength.update(state.windowLength());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<CtrScore> out) throws Exception {
        UserHeader h = readHeader(ctx);
        if (h == null) {
            return;
        }
        if (timestamp >= h.lastActive + inactivityMs) {
            invalidateCached(ctx);
            header.clear();
            window.clear();
            expiredUsers.inc();
        } else {
            // A timer set under a shorter dien.state.inactivity-expiry (before a restart): arm the
            // current one, or a user who never comes back would stay in state for ever.
            long fire = h.lastActive + inactivityMs + bucketMs;
            ctx.timerService().registerProcessingTimeTimer(fire);
            h.expiryTimer = fire;
            header.update(h);
        }
    }

    /** The user's header, or null for none or for one that could not be read or is inconsistent (then reset). */
    private UserHeader readHeader(Context ctx) throws Exception {
        try {
            UserHeader h = header.value();
            if (h != null) {
                UserWindows.checkStored(h, model);
            }
            return h;
        } catch (RuntimeException e) {
            resetIfCorrupt(e, ctx);
            return null;
        }
    }

    /** The user rebuilt under the current model, or null when its stored window could not be read (then reset). */
    private UserWindows.Rebuilt rebuildOrReset(UserHeader h, Context ctx) throws Exception {
        try {
            return rebuild(h);
        } catch (RuntimeException e) {
            resetIfCorrupt(e, ctx);
            return null;
        }
    }

    /**
     * Removes the current user's state when {@code e} says its stored bytes are unreadable, so one bad
     * key costs that user's history instead of a crash loop of the whole job; rethrows anything else.
     */
    private void resetIfCorrupt(RuntimeException e, Context ctx) {
        if (!CorruptUserException.isCorruption(e)) {
            throw e;
        }
        LOG.warn("User {}: stored state cannot be read and is reset ({})", ctx.getCurrentKey(),
                CorruptUserException.rootMessage(e));
        invalidateCached(ctx);
        header.clear();
        window.clear();
        corruptUsers.inc();
    }

    /** This subtask's window cache; null when disabled or before {@code open} (tests). */
    UserWindowCache windowCache() {
        return cache;
    }

    /** Drops the current user's cached window: its stored window is about to be removed or rewritten. */
    private void invalidateCached(Context ctx) {
        if (cache != null) {
            cache.invalidate(ctx.getCurrentKey());
        }
    }

    /** Moves the user's activity mark to the current bucket and its expiry timer with it; true when the header changed. */
    private boolean touch(UserHeader h, Context ctx) {
        long now = ctx.timerService().currentProcessingTime();
        long bucket = now - Math.floorMod(now, bucketMs);
        if (bucket == h.lastActive) {
            return false;
        }
        h.lastActive = bucket;
        long fire = bucket + inactivityMs + bucketMs;
        if (h.expiryTimer != 0) {
            ctx.timerService().deleteProcessingTimeTimer(h.expiryTimer);
        }
        ctx.timerService().registerProcessingTimeTimer(fire);
        h.expiryTimer = fire;
        return true;
    }

    /**
     * Recomputes the user's states under the current model from the stored raw clicks (windowed
     * semantics) and rewrites the window entries; the caller writes the returned header.
     */
    private UserWindows.Rebuilt rebuild(UserHeader old) throws Exception {
        UserWindows.Rebuilt rebuilt = UserWindows.rebuild(scorer, old, window.entries());
        window.clear();
        for (int t = 0; t < rebuilt.header().count; t++) {
            window.put(t, rebuilt.entry(t));
        }
        stateRebuilds.inc();
        return rebuilt;
    }
}

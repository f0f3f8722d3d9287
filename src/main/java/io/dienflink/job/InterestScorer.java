package io.dienflink.job;

import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.DeadLetterReason;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Semantics;
import io.dienflink.shadow.ServingHandOff;
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
 * extractor step per click and scores each ad request against it. Events, timers, metrics and
 * output live here; the user's stored state and its policies are the {@link UserStore}'s, the math
 * the model core's ({@link DienScorer}, {@link InterestState}).
 *
 * <p>State layout, chosen by measurement (docs/capacity.md): one {@link StoredUser} value per user
 * (the window's raw click ids, the extractor states after its oldest and newest clicks, the
 * de-duplication record and expiry bookkeeping). A click reads and writes that value; a request
 * reads it and replays the window's states, unless the user's window is in the subtask's
 * {@link UserWindowCache} of recently scored users. Users of the earlier layout (a header value and
 * one map entry per click, {@link #headerDescriptor}, {@link #windowDescriptor}) restored from an
 * older savepoint are converted on their next event.
 *
 * <p>Semantics: clicks and requests of a user are processed in the order they reach this operator
 * (each topic keeps a user's order when partitioned by user id); a click whose event id is among the
 * user's recent ones ({@link DedupPolicy}) is applied once; a request for a user without state is
 * scored against an empty history; a user with neither click nor request for {@code inactivityExpiry}
 * (processing time) is removed by a timer; states computed by another model are rebuilt from the
 * stored raw clicks on the user's next event.
 */
public final class InterestScorer extends KeyedCoProcessFunction<Long, Click, ScoreRequest, CtrScore> {
    private static final Logger LOG = LoggerFactory.getLogger(InterestScorer.class);
    private static final long MAX_ACTIVITY_BUCKET_MS = 3_600_000L;

    /** Default of {@code dien.click.dedup-horizon}. */
    public static final long DEFAULT_DEDUP_HORIZON_MS = 600_000L;

    private final String modelPath;
    private final String expectedFingerprint;
    private final long inactivityMs;
    private final DedupPolicy dedup;
    private final long maxAgeMs;
    private final int windowCacheUsers;
    /** Sampled requests to the shadow challenger and the serving log (side outputs); NONE when both are off. */
    private final ServingHandOff handOff;

    private transient DienModel model;
    private transient DienScorer scorer;
    /** The user being scored when it has no state: an empty history, reset in place. */
    private transient InterestState empty;
    private transient long bucketMs;
    private transient UserStore store;
    private transient ValueState<StoredUser> user;
    private transient float[] ctr;
    private transient Counter clicks;
    private transient Counter requests;
    private transient Counter duplicateClicks;
    private transient Counter stateRebuilds;
    private transient Counter expiredUsers;
    private transient Counter corruptUsers;
    private transient Counter convertedUsers;
    private transient Counter expiredRequests;
    /** Expired requests' dead letters, counted in deadLetters{reason=expired} like the decoders' ones. */
    private transient DeadLetterRouting deadLetters;
    private transient UnknownIdCounters unknownIds;
    private transient Histogram scoreLatencyMs;
    private transient Histogram historyLength;

    /**
     * @param expectedFingerprint the bundle fingerprint validated at submission, or null to accept any
     * @param dedupWindow the most click event ids remembered per user ({@link DedupPolicy}), for
     *     {@link #DEFAULT_DEDUP_HORIZON_MS} after the user's newest click
     * @param maxAgeMs requests older than this when they arrive are dead-lettered as expired (counted in
     *     {@code expiredRequests} and in {@code deadLetters} of the group {@code reason=expired}); 0: never
     */
    public InterestScorer(String modelPath, String expectedFingerprint, long inactivityMs, int dedupWindow, long maxAgeMs) {
        this(modelPath, expectedFingerprint, inactivityMs, dedupWindow, maxAgeMs, 0);
    }

    /**
     * @param windowCacheUsers recently scored users whose windows each subtask keeps on the heap
     *     ({@link UserWindowCache}); 0: none, every request replays the window from state
     */
    public InterestScorer(String modelPath, String expectedFingerprint, long inactivityMs, int dedupWindow, long maxAgeMs,
                          int windowCacheUsers) {
        this(modelPath, expectedFingerprint, inactivityMs, new DedupPolicy(dedupWindow, DEFAULT_DEDUP_HORIZON_MS), maxAgeMs,
                windowCacheUsers);
    }

    /** @param dedup which click event ids are remembered, and for how long */
    public InterestScorer(String modelPath, String expectedFingerprint, long inactivityMs, DedupPolicy dedup, long maxAgeMs,
                          int windowCacheUsers) {
        this(modelPath, expectedFingerprint, inactivityMs, dedup, maxAgeMs, windowCacheUsers, ServingHandOff.NONE);
    }

    /** @param handOff which scored requests go to the shadow challenger and the serving log ({@link ServingHandOff}) */
    public InterestScorer(String modelPath, String expectedFingerprint, long inactivityMs, DedupPolicy dedup, long maxAgeMs,
                          int windowCacheUsers, ServingHandOff handOff) {
        this.handOff = handOff;
        if (windowCacheUsers < 0) {
            throw new IllegalArgumentException("windowCacheUsers must not be negative: " + windowCacheUsers);
        }
        this.windowCacheUsers = windowCacheUsers;
        this.modelPath = modelPath;
        this.expectedFingerprint = expectedFingerprint;
        this.inactivityMs = inactivityMs;
        this.dedup = dedup;
        this.maxAgeMs = maxAgeMs;
    }

    /** The per-user state's descriptor (also used by the State Processor API). */
    public static ValueStateDescriptor<StoredUser> userDescriptor() {
        return new ValueStateDescriptor<>("user", StateSerializers.StoredUserSerializer.INSTANCE);
    }

    /** The earlier layout's header state (read to convert users of older savepoints). */
    public static ValueStateDescriptor<UserHeader> headerDescriptor() {
        return new ValueStateDescriptor<>("user-header", StateSerializers.UserHeaderSerializer.INSTANCE);
    }

    /** The earlier layout's window state, ring slot → click entry (read to convert users of older savepoints). */
    public static MapStateDescriptor<Integer, ClickEntry> windowDescriptor() {
        return new MapStateDescriptor<>("user-window", IntSerializer.INSTANCE, StateSerializers.ClickEntrySerializer.INSTANCE);
    }

    @Override
    public void open(OpenContext openContext) {
        model = SharedModels.get(modelPath, expectedFingerprint, true);
        scorer = model.newScorer();
        empty = scorer.newState();
        bucketMs = activityBucketMs(inactivityMs);
        user = getRuntimeContext().getState(userDescriptor());
        ValueState<UserHeader> header = getRuntimeContext().getState(headerDescriptor());
        MapState<Integer, ClickEntry> window = getRuntimeContext().getMapState(windowDescriptor());
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
        convertedUsers = m.counter("convertedUsers");
        expiredRequests = m.counter("expiredRequests");
        deadLetters = new DeadLetterRouting(getRuntimeContext());
        unknownIds = new UnknownIdCounters(model,
                (table, input) -> m.addGroup("table", table).addGroup("input", input).counter("unknownIds"));
        scoreLatencyMs = m.histogram("scoreLatencyMs", new DescriptiveStatisticsHistogram(10_000));
        historyLength = m.histogram("historyLength", new DescriptiveStatisticsHistogram(10_000));
        handOff.open(m);
        UserWindowCache cache = null;
        if (windowCacheUsers > 0) {
            UserWindowCache c = new UserWindowCache(windowCacheUsers);
            cache = c;
            m.gauge("windowCacheHitRate", (Gauge<Double>) c::hitRate);
            m.gauge("windowCacheHits", (Gauge<Long>) c::hits);
            m.gauge("windowCacheMisses", (Gauge<Long>) c::misses);
            m.gauge("windowCacheUsers", (Gauge<Integer>) c::size);
        }
        store = new UserStore(scorer, UserStore.slot(user), UserStore.legacySlot(header, window), dedup, cache,
                new UserStore.Events() {
                    @Override
                    public void duplicate() {
                        duplicateClicks.inc();
                    }

                    @Override
                    public void rebuilt() {
                        stateRebuilds.inc();
                    }

                    @Override
                    public void reset(long key, String reason) {
                        LOG.warn("User {}: stored state cannot be read and is reset ({})", key, reason);
                        corruptUsers.inc();
                    }

                    @Override
                    public void converted() {
                        convertedUsers.inc();
                    }
                });
    }

    @Override
    public void processElement1(Click click, Context ctx, Collector<CtrScore> out) throws Exception {
        clicks.inc();
        long now = ctx.timerService().currentProcessingTime();
        if (store.click(ctx.getCurrentKey(), click.eventHash(), click.itemId(), click.categoryId(), now,
                u -> touch(u, now, ctx)) == UserStore.ClickOutcome.APPLIED) {
            unknownIds.count(click);
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
        InterestState state = store.load(ctx.getCurrentKey(), arrived, u -> touch(u, arrived, ctx));
        if (state == null) { // no user, or one that was reset: an empty history
            state = empty;
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
        if (handOff.active()) { // after the score is sent: the hand-off never delays it
            handOff.handOff(ctx::output, request.requestId(), request.userId(), request.eventTime(), request.itemIds(),
                    request.categoryIds(), n, state, model, ctr, now);
        }
        scoreLatencyMs.update(Math.max(0, now - request.eventTime()));
        historyLength.update(state.windowLength());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<CtrScore> out) throws Exception {
        long key = ctx.getCurrentKey();
        StoredUser u = store.read(key);
        if (u == null) {
            return;
        }
        if (timestamp >= u.lastActive + inactivityMs) {
            store.clear(key);
            expiredUsers.inc();
        } else {
            // A timer set under a shorter dien.state.inactivity-expiry (before a restart): arm the
            // current one, or a user who never comes back would stay in state for ever.
            long fire = expiryTimer(u.lastActive, inactivityMs, bucketMs);
            ctx.timerService().registerProcessingTimeTimer(fire);
            u.expiryTimer = fire;
            store.replace(key, u, timestamp);
        }
    }

    /** This subtask's window cache; null when disabled or before {@code open} (tests). */
    UserWindowCache windowCache() {
        return store == null ? null : store.cache();
    }

    /**
     * The granularity of activity tracking under {@code inactivityMs}: expiry / 24, at most an hour,
     * so that a busy user rewrites its activity mark at most once per bucket.
     */
    static long activityBucketMs(long inactivityMs) {
        return Math.max(1, Math.min(MAX_ACTIVITY_BUCKET_MS, inactivityMs / 24));
    }

    /** The start of the activity bucket of processing time {@code now}. */
    static long activityBucket(long now, long bucketMs) {
        return now - Math.floorMod(now, bucketMs);
    }

    /**
     * When the expiry timer of a user last active in {@code bucket} fires: a bucket after the expiry,
     * so that the timer finds a user active anywhere in that bucket expired.
     */
    static long expiryTimer(long bucket, long inactivityMs, long bucketMs) {
        return bucket + inactivityMs + bucketMs;
    }

    /** Moves the user's activity mark to the bucket of {@code now} and its expiry timer with it; true when that changed the user. */
    private boolean touch(StoredUser u, long now, Context ctx) {
        long bucket = activityBucket(now, bucketMs);
        if (bucket == u.lastActive) {
            return false;
        }
        u.lastActive = bucket;
        long fire = expiryTimer(bucket, inactivityMs, bucketMs);
        if (u.expiryTimer != 0) {
            ctx.timerService().deleteProcessingTimeTimer(u.expiryTimer);
        }
        ctx.timerService().registerProcessingTimeTimer(fire);
        u.expiryTimer = fire;
        return true;
    }
}

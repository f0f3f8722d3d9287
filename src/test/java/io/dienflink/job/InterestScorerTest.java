package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.CtrScore;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.groups.OperatorMetricGroup;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.metrics.groups.InternalOperatorMetricGroup;
import org.apache.flink.runtime.metrics.groups.TaskManagerMetricGroup;
import org.apache.flink.runtime.metrics.util.TestingMetricRegistry;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link InterestScorer} in Flink's operator harness on the RocksDB backend: its outputs against the
 * model core, its state contents, its expiry timers and its handling of repeated clicks.
 *
 * <p>Every case runs twice: with the window cache off and with the cache size the job ships with
 * ({@code dien.state.window-cache.users}' default), since the cache sits on the request path that
 * rebuilds, corrupt-user resets and de-duplication go through. The cases comparing a cached scorer
 * with an uncached one choose their own sizes.
 */
@ParameterizedClass
@MethodSource("windowCaches")
class InterestScorerTest {
    private static final String BUNDLE = "official"; // T = 20, so tests wrap the ring quickly
    private static final long DAY = 86_400_000L;
    /** Operator and model core run the same kernels; they agree to the JIT's last-ulp spread. */
    private static final float CTR_TOLERANCE = Reproducibility.TOLERANCE;

    private final DienModel model = DienModel.from(GoldenCases.bundle(BUNDLE));
    private final DienScorer reference = model.newScorer();
    private KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> harness;
    private KeyedCoProcessOperator<Long, Click, ScoreRequest, CtrScore> operator;
    /** What the operator opened last registered in its metric group, as a metric reporter would see it. */
    private List<Registered> metrics;
    private int sequence;
    /** Users in each subtask's window cache in this run of the class; 0: the cache is off. */
    private final int windowCacheUsers;

    InterestScorerTest(int windowCacheUsers) {
        this.windowCacheUsers = windowCacheUsers;
    }

    /** The cache off, and the shipped default read from the option itself, so that the two cannot drift apart. */
    static Stream<Arguments> windowCaches() {
        int shipped = DienJobOptions.WINDOW_CACHE_USERS.defaultValue();
        return Stream.of(Arguments.of(Named.of("window cache off", 0)),
                Arguments.of(Named.of("window cache of " + shipped + " users (the shipped default)", shipped)));
    }

    /** A metric as registered: its name, the variables of its group (such as {@code <reason>}), the metric. */
    private record Registered(String name, Map<String, String> variables, Metric metric) {}

    /**
     * The scorer's operator with a metric group of its own, backed by a registry that records every
     * registration: the harness's default group keeps no metrics. The function reads its group through
     * {@link #getMetricGroup()} when its runtime context is made, in {@code setup}.
     */
    private static final class MeteredOperator extends KeyedCoProcessOperator<Long, Click, ScoreRequest, CtrScore> {
        private final transient OperatorMetricGroup group;

        MeteredOperator(KeyedCoProcessFunction<Long, Click, ScoreRequest, CtrScore> function, List<Registered> registered) {
            super(function);
            TestingMetricRegistry registry = TestingMetricRegistry.builder()
                    .setRegisterConsumer((metric, name, g) -> registered.add(new Registered(name, g.getAllVariables(), metric)))
                    .build();
            InternalOperatorMetricGroup g = TaskManagerMetricGroup
                    .createTaskManagerMetricGroup(registry, "localhost", ResourceID.generate())
                    .addJob(new JobID(), "InterestScorerTest")
                    .addTask(ExecutionAttemptID.randomId(), "scorer")
                    .getOrAddOperator(new OperatorID(), "DIEN interest state and scoring", Map.of());
            this.group = g;
        }

        @Override
        public OperatorMetricGroup getMetricGroup() {
            return group;
        }
    }

    private KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> open(
            String bundleDir, OperatorSubtaskState restore, int dedupWindow, long inactivityMs) throws Exception {
        return open(bundleDir, restore, dedupWindow, inactivityMs, 0);
    }

    private KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> open(
            String bundleDir, OperatorSubtaskState restore, int dedupWindow, long inactivityMs, long maxAgeMs)
            throws Exception {
        return open(bundleDir, restore, dedupWindow, inactivityMs, maxAgeMs, windowCacheUsers);
    }

    private KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> open(
            String bundleDir, OperatorSubtaskState restore, int dedupWindow, long inactivityMs, long maxAgeMs,
            int cacheUsers) throws Exception {
        metrics = new CopyOnWriteArrayList<>();
        operator = new MeteredOperator(new InterestScorer(bundleDir, null, inactivityMs, dedupWindow, maxAgeMs,
                cacheUsers), metrics);
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(operator, Click::userId, ScoreRequest::userId, Types.LONG);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    @BeforeEach
    void setUp() throws Exception {
        harness = open(GoldenCases.bundleDir(BUNDLE).toString(), null, 8, 14 * DAY);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private Click click(long user, long item, long category) {
        return new Click("e" + (sequence++), user, item, category, 1_000 + sequence);
    }

    /** Sends n clicks of the user, the i-th on item(i·itemStep) and category(i·categoryStep); returns them in order. */
    private List<Click> sendClicks(long user, int n, int itemStep, int categoryStep) throws Exception {
        List<Click> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Click c = click(user, item(i * itemStep), category(i * categoryStep));
            sent.add(c);
            harness.processElement1(c, i);
        }
        return sent;
    }

    /** Takes a snapshot and opens a new operator from it, as a restart from a savepoint does. */
    private void restart(String bundleDir, int dedupWindow) throws Exception {
        restart(bundleDir, dedupWindow, 14 * DAY);
    }

    private void restart(String bundleDir, int dedupWindow, long inactivityMs) throws Exception {
        OperatorSubtaskState snapshot = harness.snapshot(1, 100);
        harness.close();
        harness = open(bundleDir, snapshot, dedupWindow, inactivityMs);
    }

    private static ScoreRequest request(String id, long user, long[] items, long[] categories) {
        return new ScoreRequest(id, user, 5_000, items, categories);
    }

    private static long item(int i) {
        return GoldenCases.bundle(BUNDLE).longs("vocab.item")[i % 60];
    }

    private static long category(int i) {
        return GoldenCases.bundle(BUNDLE).longs("vocab.category")[i % 9];
    }

    private float[] expected(List<Click> clicks, long user, long[] items, long[] categories) {
        return expected(reference, clicks, user, items, categories);
    }

    /** The model core's CTRs after {@code clicks}, appended one by one (windowed when they fit the window). */
    private static float[] expected(DienScorer scorer, List<Click> clicks, long user, long[] items, long[] categories) {
        InterestState s = scorer.newState();
        clicks.forEach(c -> s.append(scorer, c.itemId(), c.categoryId()));
        float[] ctr = new float[items.length];
        s.score(scorer, user, items, categories, items.length, Semantics.STREAMING, ctr);
        return ctr;
    }

    private static float[] ctrs(CtrScore s) {
        float[] out = new float[s.getScores().size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.getScores().get(i).getCtr();
        }
        return out;
    }

    private UserHeader header(long user) throws Exception {
        return headerState(user).value();
    }

    private StoredUser stored(long user) throws Exception {
        return userState(user).value();
    }

    private ValueState<StoredUser> userState(long user) throws Exception {
        operator.setCurrentKey(user);
        return operator.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, InterestScorer.userDescriptor());
    }

    private ValueState<UserHeader> headerState(long user) throws Exception {
        operator.setCurrentKey(user);
        return operator.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, InterestScorer.headerDescriptor());
    }

    private Map<Integer, ClickEntry> window(long user) throws Exception {
        operator.setCurrentKey(user);
        MapState<Integer, ClickEntry> state = operator.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, InterestScorer.windowDescriptor());
        Map<Integer, ClickEntry> out = new java.util.HashMap<>();
        for (Map.Entry<Integer, ClickEntry> e : state.entries()) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    /**
     * The count of the counter {@code name} that the operator opened last registered in the group
     * with exactly {@code labels} among its variables (e.g. {@code reason=expired}); 0 when it never
     * registered one, as a reporter would show nothing.
     */
    private long counter(String name, Map<String, String> labels) {
        long sum = 0;
        for (Registered r : metrics) {
            boolean labelled = labels.entrySet().stream()
                    .allMatch(l -> l.getValue().equals(r.variables().get("<" + l.getKey() + ">")));
            if (r.name().equals(name) && labelled && r.metric() instanceof Counter c) {
                sum += c.getCount();
            }
        }
        return sum;
    }

    @Test
    void runsWithTheWindowCacheOfItsParameter() throws Exception {
        long[] items = {item(1)};
        long[] cats = {category(1)};
        sendClicks(12, 3, 1, 1);
        harness.processElement2(request("first", 12, items, cats), 1);
        harness.processElement2(request("second", 12, items, cats), 2);
        UserWindowCache cache = ((InterestScorer) operator.getUserFunction()).windowCache();
        if (windowCacheUsers == 0) {
            assertThat(cache).isNull();
        } else {
            assertThat(cache).as("the window cache of a scorer opened with %d users", windowCacheUsers).isNotNull();
            assertThat(cache.size()).isEqualTo(1);
            assertThat(cache.hits()).as("the second request is served from the cache").isEqualTo(1);
        }
    }

    @Test
    void scoresEqualTheModelCoreAcrossTheRing() throws Exception {
        long[] items = {item(3), 999_999L, item(17)};
        long[] cats = {category(1), category(2), 1L};
        List<Click> history = new ArrayList<>();
        int expectedScores = 0;
        for (int i = 0; i < 45; i++) { // more than T = 20: the ring wraps twice
            Click c = click(7, item(i * 7), category(i));
            history.add(c);
            harness.processElement1(c, i);
            if (i % 11 == 0) {
                harness.processElement2(request("r" + i, 7, items, cats), i);
                expectedScores++;
                CtrScore s = harness.extractOutputValues().get(expectedScores - 1);
                assertThat(s.getRequestId()).isEqualTo("r" + i);
                assertThat(s.getHistoryLength()).isEqualTo(Math.min(history.size(), 20));
                assertThat(s.getClicksApplied()).isEqualTo(history.size());
                assertThat(s.getModelVersion()).isEqualTo("official-1000");
                assertThat(s.getModelFingerprint()).isEqualTo(model.fingerprint());
                assertThat(s.getScores()).extracting(x -> x.getItemId()).containsExactly(items[0], items[1], items[2]);
                assertThat(ctrs(s)).containsExactly(expected(history, 7, items, cats), within(CTR_TOLERANCE));
            }
        }
    }

    @Test
    void stateHoldsHeaderAndOneEntryPerWindowClick() throws Exception {
        List<Click> history = sendClicks(11, 23, 1, 1);
        UserHeader h = header(11);
        assertThat(h.totalClicks).isEqualTo(23);
        assertThat(h.count).isEqualTo(20);
        assertThat(h.next).isEqualTo(3);
        assertThat(h.modelFingerprint).isEqualTo(model.fingerprint64());
        Map<Integer, ClickEntry> window = window(11);
        assertThat(window).hasSize(20);
        InterestState s = reference.newState();
        history.forEach(c -> s.append(reference, c.itemId(), c.categoryId()));
        for (int t = 0; t < 20; t++) {
            ClickEntry e = window.get((3 + t) % 20);
            assertThat(e.itemId).isEqualTo(s.itemAt(t));
            assertThat(e.categoryId).isEqualTo(s.categoryAt(t));
            assertThat(e.state).containsExactly(s.stateAt(t), within(1e-6f));
        }
        assertThat(h.lastState).containsExactly(s.stateAt(19), within(1e-6f));
    }

    @Test
    void repeatedEventIdIsAppliedOnce() throws Exception {
        Click first = new Click("retry-me", 5, item(1), category(1), 10);
        Click second = click(5, item(2), category(2));
        long[] items = {item(3), item(4)};
        long[] cats = {category(3), category(4)};
        harness.processElement1(first, 1);
        harness.processElement1(second, 2);
        harness.processElement2(request("before-retry", 5, items, cats), 3); // with the cache on, user 5 is cached now
        harness.processElement1(first, 4); // a producer retry arriving after another click
        assertThat(header(5).totalClicks).isEqualTo(2);
        assertThat(window(5)).hasSize(2);
        // the retry changed neither the stored nor the cached window: the next score is over the two clicks
        harness.processElement2(request("after-retry", 5, items, cats), 5);
        CtrScore s = harness.extractOutputValues().get(1);
        assertThat(s.getClicksApplied()).isEqualTo(2);
        assertThat(ctrs(s)).containsExactly(expected(List.of(first, second), 5, items, cats), within(CTR_TOLERANCE));
        // another user may reuse the id: de-duplication is per user
        harness.processElement1(new Click("retry-me", 6, item(1), category(1), 10), 4);
        assertThat(header(6).totalClicks).isEqualTo(1);
    }

    @Test
    void aSmallerDedupWindowAfterRestartKeepsTheNewestEventIds() throws Exception {
        List<Click> sent = sendClicks(5, 5, 1, 1);
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 2);
        harness.processElement1(sent.get(4), 10); // among the newest two: a duplicate
        harness.processElement1(sent.get(3), 11);
        assertThat(header(5).totalClicks).isEqualTo(5);
        harness.processElement1(sent.get(1), 12); // older than the window now remembers: applied again
        assertThat(header(5).totalClicks).isEqualTo(6);
        assertThat(header(5).recentEventIds).hasSize(2); // written with the next applied click
    }

    @Test
    void requestForUnknownUserIsScoredWithEmptyHistoryAndKeepsNoState() throws Exception {
        long[] items = {item(4)};
        long[] cats = {category(4)};
        harness.processElement2(request("fresh", 123, items, cats), 1);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getHistoryLength()).isZero();
        assertThat(ctrs(s)).containsExactly(expected(List.of(), 123, items, cats), within(CTR_TOLERANCE));
        assertThat(header(123)).isNull();
        assertThat(window(123)).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void inactiveUsersExpireAndActivityPostponesExpiry() throws Exception {
        harness.setProcessingTime(DAY);
        harness.processElement1(click(1, item(1), category(1)), 1);
        harness.processElement1(click(2, item(2), category(2)), 2);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(2);
        // user 2 stays active: a request ten days later moves its expiry
        harness.setProcessingTime(11 * DAY);
        harness.processElement2(request("r", 2, new long[] {item(3)}, new long[] {category(3)}), 3);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(2);
        harness.setProcessingTime(DAY + 14 * DAY + 14 * DAY / 24);
        assertThat(header(1)).as("user 1, inactive for 14 days").isNull();
        assertThat(window(1)).isEmpty();
        assertThat(header(2)).as("user 2, active 4 days ago").isNotNull();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        harness.setProcessingTime(11 * DAY + 14 * DAY + 14 * DAY / 24);
        assertThat(header(2)).isNull();
        assertThat(window(2)).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aLongerExpiryAfterARestartAppliesToUsersWhoNeverComeBack() throws Exception {
        harness.setProcessingTime(DAY);
        harness.processElement1(click(1, item(1), category(1)), 1);
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 8, 28 * DAY);
        // the timer set under 14 days fires: the user is kept, and a timer for 28 days replaces it
        harness.setProcessingTime(DAY + 14 * DAY + 14 * DAY / 24);
        assertThat(header(1)).isNotNull();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        long hour = 3_600_000L; // the activity bucket: inactivity / 24, at most an hour
        assertThat(header(1).expiryTimer).isEqualTo(DAY + 28 * DAY + hour);
        harness.setProcessingTime(DAY + 28 * DAY + hour - 1);
        assertThat(header(1)).isNotNull();
        harness.setProcessingTime(DAY + 28 * DAY + hour);
        assertThat(header(1)).as("user 1, inactive for 28 days").isNull();
        assertThat(window(1)).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void stateSurvivesSnapshotAndRestore() throws Exception {
        List<Click> history = sendClicks(9, 25, 3, 5);
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 8);
        long[] items = {item(8), item(9)};
        long[] cats = {category(8), category(0)};
        harness.processElement2(request("after-restore", 9, items, cats), 200);
        assertThat(ctrs(harness.extractOutputValues().get(0))).containsExactly(expected(history, 9, items, cats), within(CTR_TOLERANCE));
        assertThat(header(9).totalClicks).isEqualTo(25);
    }

    @Test
    void stateOfAnotherModelIsRebuiltFromTheStoredClicks() throws Exception {
        List<Click> history = sendClicks(4, 25, 1, 1);
        // same clicks, another model: the torch bundle has other weights, H = 16 and T = 12
        restart(GoldenCases.bundleDir("torch").toString(), 8);
        DienModel other = DienModel.from(GoldenCases.bundle("torch"));
        DienScorer otherScorer = other.newScorer();
        long[] items = {111L, 222L};
        long[] cats = {1L, 2L};
        harness.processElement2(request("upgraded", 4, items, cats), 200);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getHistoryLength()).isEqualTo(12);
        assertThat(ctrs(s)).containsExactly(expected(otherScorer, history.subList(13, 25), 4, items, cats), within(CTR_TOLERANCE));
        UserHeader h = header(4);
        assertThat(h.modelFingerprint).isEqualTo(other.fingerprint64());
        assertThat(h.capacity).isEqualTo(12);
        assertThat(h.lastState).hasSize(16);
        assertThat(window(4)).hasSize(12);
        // the rebuilt user is then loaded as any other (and cached, with the cache on), and a click extends it
        harness.processElement2(request("after-rebuild", 4, items, cats), 201);
        assertThat(ctrs(harness.extractOutputValues().get(1))).containsExactly(ctrs(s), within(CTR_TOLERANCE));
        Click next = click(4, 333L, 3L);
        harness.processElement1(next, 202);
        harness.processElement2(request("after-click", 4, items, cats), 203);
        List<Click> now = new ArrayList<>(history.subList(13, 25));
        now.add(next);
        CtrScore last = harness.extractOutputValues().get(2);
        assertThat(last.getClicksApplied()).isEqualTo(26);
        assertThat(ctrs(last)).containsExactly(expected(otherScorer, now, 4, items, cats), within(CTR_TOLERANCE));
    }

    @Test
    void duplicateClickAsTheFirstEventAfterAnUpgradeLeavesTheStoredClicksIntact() throws Exception {
        List<Click> history = sendClicks(4, 25, 1, 1);
        restart(GoldenCases.bundleDir("torch").toString(), 8);
        DienScorer otherScorer = DienModel.from(GoldenCases.bundle("torch")).newScorer();
        // a producer retry of the newest click reaches the upgraded job before anything else
        harness.processElement1(history.get(24), 150);
        long[] items = {111L, 222L};
        long[] cats = {1L, 2L};
        harness.processElement2(request("after-retry", 4, items, cats), 200);
        assertThat(ctrs(harness.extractOutputValues().get(0)))
                .containsExactly(expected(otherScorer, history.subList(13, 25), 4, items, cats), within(CTR_TOLERANCE));
        assertThat(header(4).totalClicks).isEqualTo(25);
        long[][] stored = StoredClicks.of(stored(4));
        assertThat(stored.length).isEqualTo(12);
        for (int t = 0; t < 12; t++) {
            assertThat(stored[t][0]).as("click %d of the window", t).isEqualTo(history.get(13 + t).itemId());
        }
    }

    @Test
    void aUserWhoseHeaderAndWindowDisagreeIsResetInsteadOfFailingEveryRestart() throws Exception {
        sendClicks(3, 5, 1, 1);
        UserHeader h = header(3);
        h.count = 6; // the header claims a click the window does not hold
        h.next = 6;
        h.totalClicks = 6;
        headerState(3).update(h);
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 8); // the bad user survives a restart, as it would in RocksDB
        long[] items = {item(1)};
        long[] cats = {category(1)};
        harness.processElement2(request("after-corruption", 3, items, cats), 10);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getClicksApplied()).isZero();
        assertThat(s.getHistoryLength()).isZero();
        assertThat(ctrs(s)).containsExactly(expected(List.of(), 3, items, cats), within(CTR_TOLERANCE));
        assertThat(header(3)).isNull();
        assertThat(window(3)).isEmpty();
        assertThat(counter("corruptUsers", Map.of())).as("corruptUsers").isEqualTo(1);
        // the user starts again from its next click
        harness.processElement1(click(3, item(2), category(2)), 11);
        assertThat(header(3).totalClicks).isEqualTo(1);
        assertThat(window(3)).hasSize(1);
    }

    @Test
    void aHeaderWithAnImpossibleRingIsResetOnTheClickPath() throws Exception {
        sendClicks(8, 3, 1, 1);
        UserHeader h = header(8);
        h.recentNext = 1_000; // past the de-duplication ring: remembering an id would throw
        headerState(8).update(h);
        Click next = click(8, item(5), category(5));
        harness.processElement1(next, 20);
        assertThat(header(8).totalClicks).isEqualTo(1);
        assertThat(window(8)).hasSize(1);
        harness.processElement2(request("after-reset", 8, new long[] {item(6)}, new long[] {category(6)}), 21);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getClicksApplied()).isEqualTo(1);
        assertThat(ctrs(s)).containsExactly(expected(List.of(next), 8, new long[] {item(6)}, new long[] {category(6)}),
                within(CTR_TOLERANCE));
    }

    @Test
    void aRequestOlderThanTheMaxAgeIsDeadLetteredAsExpiredAndTouchesNoState() throws Exception {
        harness.close();
        harness = open(GoldenCases.bundleDir(BUNDLE).toString(), null, 8, 14 * DAY, 1_000);
        harness.setProcessingTime(10_000);
        sendClicks(2, 3, 1, 1);
        UserHeader before = header(2);
        long[] items = {item(1), item(2)};
        long[] cats = {category(1), category(2)};
        // event time 5,000: 5 s old at 10,000, over the 1 s limit
        harness.processElement2(new ScoreRequest("stale", 2, 5_000, items, cats, "ad-requests", 1, 77, 5_001), 1);
        harness.processElement2(new ScoreRequest("fresh", 2, 9_500, items, cats, "ad-requests", 1, 78, 9_501), 2);
        assertThat(harness.extractOutputValues()).extracting(CtrScore::getRequestId).containsExactly("fresh");
        var dead = harness.getSideOutput(DeadLetterRouting.DEAD_LETTERS);
        assertThat(dead).hasSize(1);
        io.dienflink.avro.DeadLetter d = dead.peek().getValue();
        assertThat(d.getReason()).isEqualTo("expired");
        assertThat(d.getSourceTopic()).isEqualTo("ad-requests");
        assertThat(d.getOffset()).isEqualTo(77);
        assertThat(d.getDetail()).contains("5000 ms old", "dien.request.max-age is 1000 ms");
        io.dienflink.avro.AdRequest original = io.dienflink.kafka.AvroMessages.decoder(io.dienflink.avro.AdRequest.class)
                .decode(d.getPayload());
        assertThat(original.getRequestId()).isEqualTo("stale");
        assertThat(original.getCandidates()).extracting(c -> c.getItemId()).containsExactly(items[0], items[1]);
        assertThat(header(2)).isEqualTo(before);
        // counted as every other dead letter is, by reason, besides the scorer's own expiredRequests
        assertThat(counter("deadLetters", Map.of("reason", "expired"))).as("deadLetters{reason=expired}").isEqualTo(1);
        assertThat(counter("deadLetters", Map.of())).as("dead letters of any reason").isEqualTo(1);
        assertThat(counter("expiredRequests", Map.of())).as("expiredRequests").isEqualTo(1);
    }

    /** Feeds the same events to a scorer with a window cache and one without, and compares what they do. */
    private final class CachedAndUncached {
        private final String dir = GoldenCases.bundleDir(BUNDLE).toString();
        private final Map<Long, List<Click>> history = new java.util.HashMap<>();
        private KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> uncached;
        private KeyedCoProcessOperator<Long, Click, ScoreRequest, CtrScore> cachedOperator;
        private int requests;

        CachedAndUncached(int cacheUsers) throws Exception {
            uncached = open(dir, null, 8, 14 * DAY, 0, 0);
            harness.close();
            harness = open(dir, null, 8, 14 * DAY, 0, cacheUsers); // the test's harness, closed by tearDown
            cachedOperator = operator;
        }

        UserWindowCache cache() {
            return ((InterestScorer) cachedOperator.getUserFunction()).windowCache();
        }

        void clicks(long user, int n) throws Exception {
            for (int i = 0; i < n; i++) {
                Click c = click(user, item(i * 5 + (int) user), category(i + (int) user));
                history.computeIfAbsent(user, u -> new ArrayList<>()).add(c);
                harness.processElement1(c, i);
                uncached.processElement1(c, i);
            }
        }

        /** One request to both; checks both scores against each other and the model core, and the cached window against state. */
        void request(long user) throws Exception {
            long[] items = {item(3), item(11 + (int) user), item(40)};
            long[] cats = {category(2), category(5), category((int) user)};
            ScoreRequest r = InterestScorerTest.request("q" + (requests++), user, items, cats);
            harness.processElement2(r, 0);
            uncached.processElement2(r, 0);
            float[] withCache = ctrs(last(harness));
            float[] without = ctrs(last(uncached));
            assertThat(withCache).containsExactly(without, within(CTR_TOLERANCE));
            assertThat(withCache).containsExactly(
                    expected(history.getOrDefault(user, List.of()), user, items, cats), within(CTR_TOLERANCE));
            // the cached copy holds exactly what state holds: the same clicks and the same float bits
            InterestState cached = cache().peek(user);
            assertThat(cached).as("user %d is cached after a request", user).isNotNull();
            cachedOperator.setCurrentKey(user);
            UserHeader h = cachedOperator.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                    VoidNamespaceSerializer.INSTANCE, InterestScorer.headerDescriptor()).value();
            MapState<Integer, ClickEntry> window = cachedOperator.getKeyedStateBackend().getPartitionedState(
                    VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, InterestScorer.windowDescriptor());
            InterestState stored = UserWindows.load(h, window.entries(), reference.newState());
            assertThat(cached.totalClicks()).isEqualTo(stored.totalClicks());
            assertThat(cached.windowLength()).isEqualTo(stored.windowLength());
            for (int t = 0; t < stored.windowLength(); t++) {
                assertThat(cached.itemAt(t)).isEqualTo(stored.itemAt(t));
                assertThat(cached.categoryAt(t)).isEqualTo(stored.categoryAt(t));
                assertThat(cached.stateAt(t)).isEqualTo(stored.stateAt(t));
            }
        }

        private CtrScore last(KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> h) {
            List<CtrScore> out = h.extractOutputValues();
            return out.get(out.size() - 1);
        }

        /** Snapshots both and restores each into a new operator. */
        void restart(int cacheUsers) throws Exception {
            OperatorSubtaskState a = harness.snapshot(1, 100);
            OperatorSubtaskState b = uncached.snapshot(1, 100);
            harness.close();
            uncached.close();
            uncached = open(dir, b, 8, 14 * DAY, 0, 0);
            harness = open(dir, a, 8, 14 * DAY, 0, cacheUsers);
            cachedOperator = operator;
        }

        void close() throws Exception {
            uncached.close();
        }
    }

    @Test
    void theWindowCacheScoresAsStateDoesThroughClicksEvictionAndRestore() throws Exception {
        CachedAndUncached run = new CachedAndUncached(2); // two users: the third evicts the least recent
        try {
            run.clicks(1, 25); // more than T = 20: a wrapped ring
            run.clicks(2, 5);
            run.clicks(3, 12);
            run.request(1); // miss: loaded from state and cached
            run.request(1); // hit
            assertThat(run.cache().hits()).isEqualTo(1);
            run.clicks(1, 3); // a click for a cached user updates the cached copy
            run.request(1); // still a hit, with the new clicks
            assertThat(run.cache().hits()).isEqualTo(2);
            run.request(2);
            run.request(3); // evicts user 1
            assertThat(run.cache().peek(1)).isNull();
            run.clicks(1, 1); // a click for an evicted user
            run.request(1); // miss
            assertThat(run.cache().hits()).isEqualTo(2);
            assertThat(run.cache().misses()).isEqualTo(4);

            run.restart(2); // a restored operator starts with an empty cache and reads state
            assertThat(run.cache().size()).isZero();
            run.request(1); // miss after restore
            run.clicks(1, 2);
            run.request(1); // hit, after a click
            run.clicks(3, 30);
            run.request(3);
            run.request(3);
            assertThat(run.cache().hits()).isEqualTo(2);
            assertThat(run.cache().misses()).isEqualTo(2);
        } finally {
            run.close();
        }
    }

    @Test
    void aCachedUserWhoExpiresLeavesTheCache() throws Exception {
        CachedAndUncached run = new CachedAndUncached(4);
        try {
            harness.setProcessingTime(DAY);
            run.clicks(5, 7);
            run.request(5);
            assertThat(run.cache().peek(5)).isNotNull();
            // expiry: the timer removes the user's state, and the cached copy with it
            harness.setProcessingTime(16 * DAY);
            assertThat(run.cache().peek(5)).isNull();
            operator.setCurrentKey(5L);
            assertThat(header(5)).isNull();
        } finally {
            run.close();
        }
    }
}

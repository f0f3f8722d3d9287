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
 * model core, its state contents (one {@link StoredUser} value per user, whose states are compared
 * with the model core's to the JIT's last-ulp spread), the conversion
 * of users stored in the earlier layout, its expiry timers and its handling of repeated clicks.
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
        return open(bundleDir, restore, new DedupPolicy(dedupWindow, InterestScorer.DEFAULT_DEDUP_HORIZON_MS),
                inactivityMs, maxAgeMs, cacheUsers);
    }

    private KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> open(
            String bundleDir, OperatorSubtaskState restore, DedupPolicy dedup, long inactivityMs, long maxAgeMs,
            int cacheUsers) throws Exception {
        metrics = new CopyOnWriteArrayList<>();
        operator = new MeteredOperator(new InterestScorer(bundleDir, null, inactivityMs, dedup, maxAgeMs, cacheUsers),
                metrics);
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

    /** The user's value in the operator's state, or null. */
    private StoredUser stored(long user) throws Exception {
        return userState(user).value();
    }

    private ValueState<StoredUser> userState(long user) throws Exception {
        operator.setCurrentKey(user);
        return operator.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, InterestScorer.userDescriptor());
    }

    /** The user's header in the earlier layout's state (converted users must leave none). */
    private ValueState<UserHeader> legacyHeaderState(long user) throws Exception {
        operator.setCurrentKey(user);
        return operator.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, InterestScorer.headerDescriptor());
    }

    /** The user's click entries in the earlier layout's state, by ring slot. */
    private MapState<Integer, ClickEntry> legacyWindowState(long user) throws Exception {
        operator.setCurrentKey(user);
        return operator.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, InterestScorer.windowDescriptor());
    }

    /** The user's entries in the earlier layout's state, copied out. */
    private Map<Integer, ClickEntry> legacyWindow(long user) throws Exception {
        Map<Integer, ClickEntry> out = new java.util.HashMap<>();
        for (Map.Entry<Integer, ClickEntry> e : legacyWindowState(user).entries()) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    /** The user has no state in either layout. */
    private void assertNoState(long user, String who) throws Exception {
        assertThat(stored(user)).as(who).isNull();
        assertThat(legacyHeaderState(user).value()).as("%s: the earlier layout's header", who).isNull();
        assertThat(legacyWindow(user)).as("%s: the earlier layout's entries", who).isEmpty();
    }

    /**
     * Equal float for float to the JIT's last-ulp spread: operator and model core run the same kernels,
     * but a value computed before the JIT compiles them can differ from one computed after in the last
     * ulp ({@link io.dienflink.model.KernelReproducibilityTest}).
     */
    private static void assertComputed(float[] actual, float[] expected, String what) {
        assertThat(actual).as("%s (%s vs %s)", what, java.util.Arrays.toString(actual), java.util.Arrays.toString(expected))
                .containsExactly(expected, within(Reproducibility.TOLERANCE));
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
    void stateIsOneValuePerUserHoldingTheWindowsIdsAndTheStatesAfterItsOldestAndNewestClicks() throws Exception {
        List<Click> history = sendClicks(11, 23, 1, 1);
        StoredUser u = stored(11);
        assertThat(u.totalClicks()).isEqualTo(23);
        assertThat(u.windowLength()).isEqualTo(20);
        assertThat(u.capacity).isEqualTo(20);
        assertThat(u.modelFingerprint()).isEqualTo(model.fingerprint64());
        // nothing in the earlier layout's states: the one value is all a new user has
        assertThat(legacyHeaderState(11).value()).isNull();
        assertThat(legacyWindow(11)).isEmpty();
        InterestState s = reference.newState();
        history.forEach(c -> s.append(reference, c.itemId(), c.categoryId()));
        for (int t = 0; t < 20; t++) { // the window: clicks 4 … 23, oldest first
            assertThat(u.itemAt(t)).as("item %d", t).isEqualTo(history.get(3 + t).itemId()).isEqualTo(s.itemAt(t));
            assertThat(u.categoryAt(t)).as("category %d", t).isEqualTo(history.get(3 + t).categoryId())
                    .isEqualTo(s.categoryAt(t));
        }
        assertComputed(u.first, s.stateAt(0), "first: the model core's state after the window's oldest click (the 4th)");
        assertComputed(u.newest(), s.stateAt(19), "newest: the model core's state after the 23rd click");
    }

    @Test
    void aWindowOfMoreThanTClicksKeepsTheStateAfterItsOldestClickAsFirstAndScoresAsStreamed() throws Exception {
        List<Click> history = sendClicks(14, 25, 3, 2); // T + 5: clicks 1 … 5 have left the window
        StoredUser u = stored(14);
        InterestState six = reference.newState();
        history.subList(0, 6).forEach(c -> six.append(reference, c.itemId(), c.categoryId()));
        assertComputed(u.first, six.stateAt(5), "first: the model core's state after click 6, the window's oldest");
        InterestState all = reference.newState();
        history.forEach(c -> all.append(reference, c.itemId(), c.categoryId()));
        assertComputed(u.newest(), all.stateAt(19), "newest: the model core's state after click 25");
        assertThat(StoredClicks.of(u)).hasNumberOfRows(20);
        for (int t = 0; t < 20; t++) {
            assertThat(u.itemAt(t)).as("item %d", t).isEqualTo(history.get(5 + t).itemId());
            assertThat(u.categoryAt(t)).as("category %d", t).isEqualTo(history.get(5 + t).categoryId());
        }
        long[] items = {item(2), item(44)};
        long[] cats = {category(7), category(3)};
        harness.processElement2(request("wrapped", 14, items, cats), 30);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getHistoryLength()).isEqualTo(20);
        assertThat(s.getClicksApplied()).isEqualTo(25);
        assertThat(ctrs(s)).containsExactly(expected(history, 14, items, cats), within(CTR_TOLERANCE));
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
        StoredUser before = stored(5);
        harness.processElement1(first, 4); // a producer retry arriving after another click
        assertThat(stored(5)).as("the stored user after the retry").isEqualTo(before);
        assertThat(stored(5).totalClicks()).isEqualTo(2);
        assertThat(stored(5).windowLength()).isEqualTo(2);
        assertThat(counter("duplicateClicks", Map.of())).as("duplicateClicks").isEqualTo(1);
        // the retry changed neither the stored nor the cached window: the next score is over the two clicks
        harness.processElement2(request("after-retry", 5, items, cats), 5);
        CtrScore s = harness.extractOutputValues().get(1);
        assertThat(s.getClicksApplied()).isEqualTo(2);
        assertThat(ctrs(s)).containsExactly(expected(List.of(first, second), 5, items, cats), within(CTR_TOLERANCE));
        // another user may reuse the id: de-duplication is per user
        harness.processElement1(new Click("retry-me", 6, item(1), category(1), 10), 4);
        assertThat(stored(6).totalClicks()).isEqualTo(1);
    }

    @Test
    void aSmallerDedupWindowAfterRestartKeepsTheNewestEventIds() throws Exception {
        List<Click> sent = sendClicks(5, 5, 1, 1);
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 2);
        harness.processElement1(sent.get(4), 10); // among the newest two: a duplicate
        harness.processElement1(sent.get(3), 11);
        assertThat(stored(5).totalClicks()).isEqualTo(5);
        harness.processElement1(sent.get(1), 12); // older than the window now remembers: applied again
        assertThat(stored(5).totalClicks()).isEqualTo(6);
        assertThat(stored(5).rememberedEvents()).isEqualTo(2); // written with the next applied click
    }

    @Test
    void requestForUnknownUserIsScoredWithEmptyHistoryAndKeepsNoState() throws Exception {
        long[] items = {item(4)};
        long[] cats = {category(4)};
        harness.processElement2(request("fresh", 123, items, cats), 1);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getHistoryLength()).isZero();
        assertThat(ctrs(s)).containsExactly(expected(List.of(), 123, items, cats), within(CTR_TOLERANCE));
        assertNoState(123, "user 123");
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
        assertNoState(1, "user 1, inactive for 14 days");
        assertThat(stored(2)).as("user 2, active 4 days ago").isNotNull();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        harness.setProcessingTime(11 * DAY + 14 * DAY + 14 * DAY / 24);
        assertNoState(2, "user 2, inactive for 14 days");
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aLongerExpiryAfterARestartAppliesToUsersWhoNeverComeBack() throws Exception {
        harness.setProcessingTime(DAY);
        harness.processElement1(click(1, item(1), category(1)), 1);
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 8, 28 * DAY);
        // the timer set under 14 days fires: the user is kept, and a timer for 28 days replaces it
        harness.setProcessingTime(DAY + 14 * DAY + 14 * DAY / 24);
        assertThat(stored(1)).isNotNull();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        long hour = 3_600_000L; // the activity bucket: inactivity / 24, at most an hour
        assertThat(stored(1).expiryTimer).isEqualTo(DAY + 28 * DAY + hour);
        harness.setProcessingTime(DAY + 28 * DAY + hour - 1);
        assertThat(stored(1)).isNotNull();
        harness.setProcessingTime(DAY + 28 * DAY + hour);
        assertNoState(1, "user 1, inactive for 28 days");
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
        assertThat(stored(9).totalClicks()).isEqualTo(25);
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
        StoredUser u = stored(4);
        assertThat(u.modelFingerprint()).isEqualTo(other.fingerprint64());
        assertThat(u.capacity).isEqualTo(12);
        assertThat(u.newest()).hasSize(16);
        assertThat(u.windowLength()).isEqualTo(12);
        for (int t = 0; t < 12; t++) { // the newest 12 of the stored clicks
            assertThat(u.itemAt(t)).as("item %d", t).isEqualTo(history.get(13 + t).itemId());
        }
        assertThat(counter("stateRebuilds", Map.of())).as("stateRebuilds").isEqualTo(1);
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
        assertThat(stored(4).totalClicks()).isEqualTo(25);
        long[][] stored = StoredClicks.of(stored(4));
        assertThat(stored.length).isEqualTo(12);
        for (int t = 0; t < 12; t++) {
            assertThat(stored[t][0]).as("click %d of the window", t).isEqualTo(history.get(13 + t).itemId());
        }
    }

    /** Writes {@code u} as the user's stored value, as bad bytes or a bad writer could have left it. */
    private void storeCorrupted(long user, StoredUser u) throws Exception {
        userState(user).update(u);
    }

    /** The request {@code index} scored against an empty history: the user's state was reset. */
    private void assertScoredAsEmpty(int index, long user, long[] items, long[] cats) {
        CtrScore s = harness.extractOutputValues().get(index);
        assertThat(s.getClicksApplied()).isZero();
        assertThat(s.getHistoryLength()).isZero();
        assertThat(ctrs(s)).containsExactly(expected(List.of(), user, items, cats), within(CTR_TOLERANCE));
    }

    @Test
    void aUserWithMoreClicksThanItsWindowHoldsIsResetInsteadOfFailingEveryRestart() throws Exception {
        sendClicks(3, 5, 1, 1);
        StoredUser u = stored(3);
        u.count = 21; // more clicks than T = 20: no window of this model holds them
        u.totalClicks = 21;
        u.items = java.util.Arrays.copyOf(u.items, 21);
        u.categories = java.util.Arrays.copyOf(u.categories, 21);
        storeCorrupted(3, u);
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 8); // the bad user survives a restart, as it would in RocksDB
        long[] items = {item(1)};
        long[] cats = {category(1)};
        harness.processElement2(request("after-corruption", 3, items, cats), 10);
        assertScoredAsEmpty(0, 3, items, cats);
        assertNoState(3, "user 3, reset");
        assertThat(counter("corruptUsers", Map.of())).as("corruptUsers").isEqualTo(1);
        // the user starts again from its next click
        harness.processElement1(click(3, item(2), category(2)), 11);
        assertThat(stored(3).totalClicks()).isEqualTo(1);
        assertThat(stored(3).windowLength()).isEqualTo(1);
    }

    @Test
    void aUserWhoseFirstAndNewestStatesDifferInLengthIsResetOnTheClickPath() throws Exception {
        sendClicks(8, 3, 1, 1);
        StoredUser u = stored(8);
        u.first = java.util.Arrays.copyOf(u.first, 5); // 5 floats against the newest state's 36
        storeCorrupted(8, u);
        Click next = click(8, item(5), category(5));
        harness.processElement1(next, 20);
        assertThat(counter("corruptUsers", Map.of())).as("corruptUsers").isEqualTo(1);
        // the click was applied to a user started afresh
        assertThat(stored(8).totalClicks()).isEqualTo(1);
        assertThat(stored(8).windowLength()).isEqualTo(1);
        harness.processElement2(request("after-reset", 8, new long[] {item(6)}, new long[] {category(6)}), 21);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getClicksApplied()).isEqualTo(1);
        assertThat(ctrs(s)).containsExactly(expected(List.of(next), 8, new long[] {item(6)}, new long[] {category(6)}),
                within(CTR_TOLERANCE));
    }

    @Test
    void aUserOfTheCurrentModelWithStatesOfAnotherSizeIsResetInsteadOfFailingEveryRestart() throws Exception {
        sendClicks(12, 4, 1, 1);
        StoredUser u = stored(12);
        u.first = new float[16]; // readable bytes, but 16 floats under the model it names, of hidden size 36
        u.newest = new float[16];
        storeCorrupted(12, u);
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 8);
        long[] items = {item(1)};
        long[] cats = {category(1)};
        harness.processElement2(request("after-corruption", 12, items, cats), 10);
        assertScoredAsEmpty(0, 12, items, cats);
        assertNoState(12, "user 12, reset");
        assertThat(counter("corruptUsers", Map.of())).as("corruptUsers").isEqualTo(1);
        harness.processElement1(click(12, item(2), category(2)), 11);
        assertThat(stored(12).totalClicks()).isEqualTo(1);
    }

    @Test
    void aUserWhoseWindowReplayDoesNotEndOnItsNewestStateIsScoredAsEmptyAndCleared() throws Exception {
        List<Click> history = sendClicks(13, 6, 1, 1);
        long[] items = {item(9), item(10)};
        long[] cats = {category(4), category(5)};
        harness.processElement2(request("intact", 13, items, cats), 7); // with the cache on, user 13 is cached now
        assertThat(ctrs(harness.extractOutputValues().get(0))).containsExactly(expected(history, 13, items, cats),
                within(CTR_TOLERANCE));
        StoredUser u = stored(13);
        // a newest state the window's replay cannot end on: the state after its oldest click instead
        // (not a one-ulp change: states of another build or CPU may differ from this one's that much)
        u.newest = u.first.clone();
        storeCorrupted(13, u);
        harness.processElement2(request("replay-mismatch", 13, items, cats), 8);
        assertScoredAsEmpty(1, 13, items, cats);
        assertThat(counter("corruptUsers", Map.of())).as("corruptUsers").isEqualTo(1);
        assertNoState(13, "user 13, reset");
        UserWindowCache cache = ((InterestScorer) operator.getUserFunction()).windowCache();
        if (cache != null) {
            assertThat(cache.peek(13)).as("the reset user's cached window").isNull();
        }
    }

    /**
     * Writes a user of {@code clicks} clicks into the earlier layout's states exactly as the earlier
     * release's operator kept it ({@link LegacyUsers#built}: header, entries by ring slot, a ring of 8
     * event ids), then restarts from a snapshot, as a job restored from an older savepoint; returns
     * the clicks it holds, oldest first, as the model core is to replay them.
     */
    private List<Click> writeLegacyUser(long user, int clicks) throws Exception {
        long[] vocabItems = GoldenCases.bundle(BUNDLE).longs("vocab.item");
        long[] vocabCats = GoldenCases.bundle(BUNDLE).longs("vocab.category");
        LegacyUsers.LegacyUser old = LegacyUsers.built(reference, user, clicks, vocabItems, vocabCats, 8);
        legacyHeaderState(user).update(old.header);
        MapState<Integer, ClickEntry> window = legacyWindowState(user);
        for (int slot = 0; slot < old.entries.length; slot++) {
            if (old.entries[slot] != null) {
                window.put(slot, old.entries[slot]);
            }
        }
        restart(GoldenCases.bundleDir(BUNDLE).toString(), 8);
        // LegacyUsers.built's clicks: click i on these ids with event hash eventHash(user, i)
        List<Click> history = new ArrayList<>();
        for (int i = 0; i < clicks; i++) {
            history.add(new Click(LegacyUsers.eventHash(user, i), user, vocabItems[(int) ((user * 7 + i * 3) % vocabItems.length)],
                    vocabCats[(int) ((user + i) % vocabCats.length)], 0));
        }
        return history;
    }

    @Test
    void aUserOfTheEarlierLayoutIsConvertedOnItsNextRequestAndKeepsScoringAsStreamed() throws Exception {
        List<Click> history = writeLegacyUser(21, 25); // a wrapped ring: the window is clicks 6 … 25
        UserHeader header = legacyHeaderState(21).value();
        Map<Integer, ClickEntry> entries = legacyWindow(21);
        assertThat(stored(21)).as("before its next event the user is only in the earlier layout").isNull();
        long[] items = {item(4), item(31)};
        long[] cats = {category(2), category(6)};
        harness.processElement2(request("converted", 21, items, cats), 1);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getHistoryLength()).isEqualTo(20);
        assertThat(s.getClicksApplied()).isEqualTo(25);
        assertThat(ctrs(s)).containsExactly(expected(history, 21, items, cats), within(CTR_TOLERANCE));
        assertThat(counter("convertedUsers", Map.of())).as("convertedUsers").isEqualTo(1);
        assertThat(counter("corruptUsers", Map.of())).as("corruptUsers").isZero();
        assertThat(legacyHeaderState(21).value()).as("the earlier layout's header, cleared").isNull();
        assertThat(legacyWindow(21)).as("the earlier layout's entries, cleared").isEmpty();
        StoredUser u = stored(21);
        assertThat(u).as("the converted user's value").isNotNull();
        assertThat(u.totalClicks()).isEqualTo(25);
        assertThat(u.windowLength()).isEqualTo(20);
        for (int t = 0; t < 20; t++) {
            assertThat(u.itemAt(t)).as("item %d", t).isEqualTo(history.get(5 + t).itemId());
            assertThat(u.categoryAt(t)).as("category %d", t).isEqualTo(history.get(5 + t).categoryId());
        }
        // the full ring's oldest click is at slot 25 mod 20 = 5
        assertComputed(u.first, entries.get(5).state, "first: the earlier layout's state of the oldest click");
        assertComputed(u.newest(), header.lastState, "newest: the earlier layout's newest state");
        assertThat(u.rememberedEvents()).as("the earlier ring's 8 event ids").isEqualTo(8);

        // its next click extends the converted user
        Click next = click(21, item(30), category(4));
        harness.processElement1(next, 2);
        history.add(next);
        harness.processElement2(request("after-click", 21, items, cats), 3);
        CtrScore after = harness.extractOutputValues().get(1);
        assertThat(after.getClicksApplied()).isEqualTo(26);
        assertThat(ctrs(after)).containsExactly(expected(history, 21, items, cats), within(CTR_TOLERANCE));
        assertThat(counter("convertedUsers", Map.of())).as("converted once").isEqualTo(1);

        // an event id the earlier layout remembered still de-duplicates a repeat
        harness.processElement1(new Click(LegacyUsers.eventHash(21, 24), 21, item(1), category(1), 0), 4);
        assertThat(stored(21).totalClicks()).isEqualTo(26);
        assertThat(counter("duplicateClicks", Map.of())).as("duplicateClicks").isEqualTo(1);
    }

    @Test
    void aUserOfTheEarlierLayoutIsConvertedOnItsNextClick() throws Exception {
        List<Click> history = writeLegacyUser(22, 7);
        Click next = click(22, item(12), category(3));
        harness.processElement1(next, 1);
        history.add(next);
        assertThat(counter("convertedUsers", Map.of())).as("convertedUsers").isEqualTo(1);
        assertThat(legacyHeaderState(22).value()).isNull();
        assertThat(legacyWindow(22)).isEmpty();
        StoredUser u = stored(22);
        assertThat(u.totalClicks()).isEqualTo(8);
        InterestState core = reference.newState();
        history.forEach(c -> core.append(reference, c.itemId(), c.categoryId()));
        assertComputed(u.first, core.stateAt(0), "first: the model core's state after the first click");
        assertComputed(u.newest(), core.stateAt(7), "newest: the model core's state after the click just applied");
        long[] items = {item(4)};
        long[] cats = {category(2)};
        harness.processElement2(request("after-click", 22, items, cats), 2);
        assertThat(ctrs(harness.extractOutputValues().get(0))).containsExactly(expected(history, 22, items, cats),
                within(CTR_TOLERANCE));
    }

    @Test
    void aRepeatOfAnEventTheEarlierLayoutRememberedIsADuplicateBeforeConversion() throws Exception {
        List<Click> history = writeLegacyUser(23, 5);
        // a producer retry of the newest click is the user's first event after the upgrade
        harness.processElement1(new Click(LegacyUsers.eventHash(23, 4), 23, item(1), category(1), 0), 1);
        assertThat(counter("duplicateClicks", Map.of())).as("duplicateClicks").isEqualTo(1);
        assertThat(counter("convertedUsers", Map.of())).as("a duplicate writes nothing, so converts nothing").isZero();
        assertThat(legacyHeaderState(23).value().totalClicks).isEqualTo(5);
        long[] items = {item(4)};
        long[] cats = {category(2)};
        harness.processElement2(request("after-retry", 23, items, cats), 2);
        CtrScore s = harness.extractOutputValues().get(0);
        assertThat(s.getClicksApplied()).isEqualTo(5);
        assertThat(ctrs(s)).containsExactly(expected(history, 23, items, cats), within(CTR_TOLERANCE));
        assertThat(stored(23).totalClicks()).isEqualTo(5);
    }

    /** A scorer whose users remember click event ids for {@code horizonMs}, replacing the test's harness. */
    private void reopenWithDedupHorizon(long horizonMs) throws Exception {
        harness.close();
        harness = open(GoldenCases.bundleDir(BUNDLE).toString(), null, new DedupPolicy(8, horizonMs), 14 * DAY, 0,
                windowCacheUsers);
    }

    @Test
    void aRepeatedEventIdWithinTheDedupHorizonIsAppliedOnceAndAfterItAgain() throws Exception {
        long horizon = 60_000;
        reopenWithDedupHorizon(horizon);
        harness.setProcessingTime(DAY);
        Click a = click(31, item(1), category(1));
        Click b = click(31, item(2), category(2));
        harness.processElement1(a, 1);
        harness.processElement1(b, 2);
        // the horizon runs from the newest click: at DAY + horizon it has not passed yet
        harness.setProcessingTime(DAY + horizon);
        harness.processElement1(a, 3);
        assertThat(stored(31).totalClicks()).isEqualTo(2);
        assertThat(counter("duplicateClicks", Map.of())).as("duplicateClicks").isEqualTo(1);
        // idle longer than the horizon: the repeat is a click of its own
        harness.setProcessingTime(DAY + horizon + 1);
        harness.processElement1(a, 4);
        StoredUser u = stored(31);
        assertThat(u.totalClicks()).isEqualTo(3);
        assertThat(u.rememberedEvents()).as("only the event just applied").isEqualTo(1);
        assertThat(counter("duplicateClicks", Map.of())).isEqualTo(1);
        long[] items = {item(4)};
        long[] cats = {category(2)};
        harness.processElement2(request("after", 31, items, cats), 5);
        assertThat(ctrs(harness.extractOutputValues().get(0))).containsExactly(expected(List.of(a, b, a), 31, items, cats),
                within(CTR_TOLERANCE));
    }

    /**
     * {@link DedupPolicy}: event ids are kept while the user's newest click is younger than the
     * horizon, "so an idle user stores none": the first write of a user idle past it (here a request
     * in a new activity bucket) stores no event ids.
     */
    @Test
    void aUserIdlePastTheDedupHorizonIsWrittenWithoutEventIds() throws Exception {
        long horizon = 60_000;
        reopenWithDedupHorizon(horizon);
        harness.setProcessingTime(DAY);
        sendClicks(32, 3, 1, 1);
        assertThat(stored(32).rememberedEvents()).isEqualTo(3);
        // two hours later: past the horizon, and in another activity bucket (an hour under a 14-day expiry)
        harness.setProcessingTime(DAY + 2 * 3_600_000L);
        harness.processElement2(request("idle", 32, new long[] {item(4)}, new long[] {category(2)}), 4);
        StoredUser u = stored(32);
        assertThat(u.lastActive).as("the request wrote the user").isEqualTo(DAY + 2 * 3_600_000L);
        assertThat(u.rememberedEvents()).as("event ids of a user idle past the de-duplication horizon").isZero();
    }

    @Test
    void aRequestOlderThanTheMaxAgeIsDeadLetteredAsExpiredAndTouchesNoState() throws Exception {
        harness.close();
        harness = open(GoldenCases.bundleDir(BUNDLE).toString(), null, 8, 14 * DAY, 1_000);
        harness.setProcessingTime(10_000);
        sendClicks(2, 3, 1, 1);
        StoredUser before = stored(2);
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
        assertThat(stored(2)).isEqualTo(before);
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
            // the cached copy holds exactly what state holds: the stored clicks, the stored first and
            // newest states, and in between the model core's states after the same clicks, bit for bit
            InterestState cached = cache().peek(user);
            assertThat(cached).as("user %d is cached after a request", user).isNotNull();
            cachedOperator.setCurrentKey(user);
            StoredUser stored = cachedOperator.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                    VoidNamespaceSerializer.INSTANCE, InterestScorer.userDescriptor()).value();
            List<Click> clicks = history.getOrDefault(user, List.of());
            InterestState core = reference.newState();
            clicks.forEach(c -> core.append(reference, c.itemId(), c.categoryId()));
            int n = core.windowLength();
            assertThat(cached.totalClicks()).isEqualTo(stored.totalClicks()).isEqualTo(clicks.size());
            assertThat(cached.windowLength()).isEqualTo(stored.windowLength()).isEqualTo(n);
            for (int t = 0; t < n; t++) {
                assertThat(cached.itemAt(t)).isEqualTo(stored.itemAt(t)).isEqualTo(core.itemAt(t));
                assertThat(cached.categoryAt(t)).isEqualTo(stored.categoryAt(t)).isEqualTo(core.categoryAt(t));
                assertComputed(cached.stateAt(t), core.stateAt(t), "user " + user + ", cached state " + t);
            }
            assertComputed(cached.stateAt(0), stored.first, "user " + user + ", cached oldest state vs stored first");
            assertComputed(cached.stateAt(n - 1), stored.newest(), "user " + user + ", cached newest state vs stored newest");
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
            assertNoState(5, "user 5, expired");
        } finally {
            run.close();
        }
    }
}

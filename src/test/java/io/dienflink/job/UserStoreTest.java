package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.Kernels;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link UserStore} on its own, without a Flink harness: a user held on the heap ({@link UserStore.Held}, or
 * {@link KeyedSlots} when several users share a cache) and, for the earlier layout, a
 * {@link LegacyMap} over a {@code HashMap}, as the operator's keyed states would hold them.
 *
 * <p>Every expected value comes from the model core ({@link InterestState#append},
 * {@link InterestState#stateAt}, {@link InterestState#score}) or from facts computed by hand (which
 * ids, how many clicks, which event hashes); none from the store. Extractor states are compared bit
 * for bit: the store's own consistency check (a replay from {@code first} must end exactly on the
 * stored {@code newest}) rests on the click path and the replay stepping exactly as the model core
 * does. The kernels are deliberately not warmed up first: if the JIT changed a state's last bit
 * between a click and a later request, the store would reset users, and these tests should show it.
 */
class UserStoreTest {
    private static final ModelBundle OFFICIAL = GoldenCases.bundle("official"); // T = 20, H = 36
    private static final DienModel MODEL = DienModel.from(OFFICIAL);
    /** Another model: other weights, H = 16, T = 12. */
    private static final DienModel TORCH = DienModel.from(GoldenCases.bundle("torch"));
    private static final int T = 20;
    private static final long USER = 42;
    private static final DedupPolicy DEDUP = new DedupPolicy(8, 600_000);
    private static final long[] CANDIDATE_ITEMS = {item(3), 999_999L, item(17)};
    private static final long[] CANDIDATE_CATEGORIES = {category(1), category(2), 1L};

    /** The model core computing the expectations; the store has a scorer of its own. */
    private final DienScorer reference = MODEL.newScorer();
    private final DienScorer scorer = MODEL.newScorer();
    private final DienScorer torchReference = TORCH.newScorer();
    private final DienScorer torchScorer = TORCH.newScorer();
    private final Recorded events = new Recorded();
    private final UserStore.Held slot = new UserStore.Held();

    /** What the store reported. */
    private static final class Recorded implements UserStore.Events {
        int duplicates;
        int rebuilds;
        int conversions;
        final List<Long> resets = new ArrayList<>();

        @Override
        public void duplicate() {
            duplicates++;
        }

        @Override
        public void rebuilt() {
            rebuilds++;
        }

        @Override
        public void reset(long user, String reason) {
            resets.add(user);
        }

        @Override
        public void converted() {
            conversions++;
        }
    }

    /** A held user that counts the store's writes, to tell a write of equal content from none. */
    private static final class CountingSlot implements UserStore.Slot {
        final UserStore.Held held = new UserStore.Held();
        int puts;

        @Override
        public StoredUser get() {
            return held.get();
        }

        @Override
        public void put(StoredUser u) {
            puts++;
            held.put(u);
        }

        @Override
        public void clear() {
            held.clear();
        }
    }

    /**
     * Keyed state on the heap: one value per user, served for the {@code current} user as Flink's
     * keyed state serves the current key; hands out and keeps copies, as a state backend does.
     */
    private static final class KeyedSlots implements UserStore.Slot {
        final Map<Long, StoredUser> values = new HashMap<>();
        long current;

        @Override
        public StoredUser get() {
            StoredUser u = values.get(current);
            return u == null ? null : u.copy();
        }

        @Override
        public void put(StoredUser u) {
            values.put(current, u.copy());
        }

        @Override
        public void clear() {
            values.remove(current);
        }
    }

    /**
     * The user as serialized bytes, read and written with the job's own serializer, as RocksDB keeps
     * it: {@code get} throws what the serializer throws, unwrapped, as {@code RocksDBValueState.value()}
     * does (an {@code IOException} for bytes it cannot read).
     */
    private static final class BytesSlot implements UserStore.Slot {
        byte[] bytes;

        @Override
        public StoredUser get() throws Exception {
            return bytes == null ? null
                    : StateSerializers.StoredUserSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes));
        }

        @Override
        public void put(StoredUser u) throws Exception {
            DataOutputSerializer out = new DataOutputSerializer(256);
            StateSerializers.StoredUserSerializer.INSTANCE.serialize(u, out);
            bytes = out.getCopyOfBuffer();
        }

        @Override
        public void clear() {
            bytes = null;
        }
    }

    /** One user of the earlier layout, in a header field and a map of entries by ring slot. */
    private static final class LegacyMap implements UserStore.LegacySlot {
        UserHeader header;
        final Map<Integer, ClickEntry> entries = new HashMap<>();

        static LegacyMap of(LegacyUsers.LegacyUser u) {
            LegacyMap m = new LegacyMap();
            m.header = u.header.copy();
            for (int slot = 0; slot < u.entries.length; slot++) {
                if (u.entries[slot] != null) {
                    m.entries.put(slot, u.entries[slot]);
                }
            }
            return m;
        }

        @Override
        public UserHeader header() {
            return header == null ? null : header.copy();
        }

        @Override
        public Iterable<Map.Entry<Integer, ClickEntry>> entries() {
            return new HashMap<>(entries).entrySet();
        }

        @Override
        public void clear() {
            header = null;
            entries.clear();
        }
    }

    private UserStore store(UserStore.Slot s) {
        return new UserStore(scorer, s, null, DEDUP, null, events);
    }

    private static long item(int i) {
        long[] v = OFFICIAL.longs("vocab.item");
        return v[(i * 7) % v.length];
    }

    private static long category(int i) {
        long[] v = OFFICIAL.longs("vocab.category");
        return v[i % v.length];
    }

    /** The event hash of click i. */
    private static long hash(int i) {
        return 10_000L + i;
    }

    /** Item id of the i-th click of a user built by {@link LegacyUsers#built} (its own formula). */
    private static long legacyItem(long user, int i) {
        long[] v = OFFICIAL.longs("vocab.item");
        return v[(int) ((user * 7 + i * 3) % v.length)];
    }

    private static long legacyCategory(long user, int i) {
        long[] v = OFFICIAL.longs("vocab.category");
        return v[(int) ((user + i) % v.length)];
    }

    /** Applies clicks {@code from … to − 1} (click i on item(i), category(i), event hash(i)) at {@code now}. */
    private static void clicks(UserStore store, int from, int to, long now) throws Exception {
        for (int i = from; i < to; i++) {
            assertThat(store.click(USER, hash(i), item(i), category(i), now, UserStore.UNTRACKED))
                    .as("click %d", i).isEqualTo(UserStore.ClickOutcome.APPLIED);
        }
    }

    /** The model core's state after clicks {@code from … to − 1}, appended one by one to an empty state. */
    private static InterestState core(DienScorer s, int from, int to) {
        InterestState state = s.newState();
        for (int i = from; i < to; i++) {
            state.append(s, item(i), category(i));
        }
        return state;
    }

    /** The model core's state after a {@link LegacyUsers#built} user's first {@code n} clicks. */
    private static InterestState coreOfLegacy(DienScorer s, long user, int n) {
        InterestState state = s.newState();
        for (int i = 0; i < n; i++) {
            state.append(s, legacyItem(user, i), legacyCategory(user, i));
        }
        return state;
    }

    private static float[] scores(InterestState state, DienScorer s) {
        float[] ctr = new float[CANDIDATE_ITEMS.length];
        state.score(s, USER, CANDIDATE_ITEMS, CANDIDATE_CATEGORIES, ctr.length, Semantics.STREAMING, ctr);
        return ctr;
    }

    private static int[] bits(float[] v) {
        return IntStream.range(0, v.length).map(i -> Float.floatToRawIntBits(v[i])).toArray();
    }

    /** Equal float for float, bit for bit: for values the store copies, not computes. */
    private static void assertCopied(float[] actual, float[] expected, String what) {
        assertThat(bits(actual)).as("%s, bit for bit (%s vs %s)", what, Arrays.toString(actual), Arrays.toString(expected))
                .containsExactly(bits(expected));
    }

    /**
     * Equal float for float to the JIT's last-ulp spread: the store and the model core run the same
     * kernels, but a value computed before the JIT compiles them can differ from one computed after
     * in the last ulp ({@link io.dienflink.model.KernelReproducibilityTest}).
     */
    private static void assertComputed(float[] actual, float[] expected, String what) {
        assertThat(actual).as("%s (%s vs %s)", what, Arrays.toString(actual), Arrays.toString(expected))
                .containsExactly(expected, org.assertj.core.api.Assertions.within(io.dienflink.model.Reproducibility.TOLERANCE));
    }

    /** The window's clicks and states equal the model core's {@code expected} ones, states bit for bit. */
    private static void assertSameWindow(InterestState actual, InterestState expected) {
        assertThat(actual.modelFingerprint()).isEqualTo(expected.modelFingerprint());
        assertThat(actual.totalClicks()).isEqualTo(expected.totalClicks());
        assertThat(actual.windowLength()).isEqualTo(expected.windowLength());
        for (int t = 0; t < expected.windowLength(); t++) {
            assertThat(actual.itemAt(t)).as("item %d", t).isEqualTo(expected.itemAt(t));
            assertThat(actual.categoryAt(t)).as("category %d", t).isEqualTo(expected.categoryAt(t));
            assertComputed(actual.stateAt(t), expected.stateAt(t), "state " + t);
        }
    }

    /** The stored user's ids, first and newest states equal the model core's window {@code expected}. */
    private static void assertStoredAs(StoredUser u, InterestState expected) {
        int n = expected.windowLength();
        assertThat(u.modelFingerprint()).isEqualTo(expected.modelFingerprint());
        assertThat(u.capacity).isEqualTo(expected.capacity());
        assertThat(u.totalClicks()).isEqualTo(expected.totalClicks());
        assertThat(u.windowLength()).isEqualTo(n);
        for (int t = 0; t < n; t++) {
            assertThat(u.itemAt(t)).as("item %d", t).isEqualTo(expected.itemAt(t));
            assertThat(u.categoryAt(t)).as("category %d", t).isEqualTo(expected.categoryAt(t));
        }
        assertComputed(u.first, expected.stateAt(0), "first");
        assertComputed(u.newest, expected.stateAt(n - 1), "newest");
    }

    /** An activity that moves the user's mark to {@code now}; true when it moved. */
    private static UserStore.Activity at(long now) {
        return u -> {
            if (u.lastActive == now) {
                return false;
            }
            u.lastActive = now;
            return true;
        };
    }

    // ---- click path -------------------------------------------------------------------------

    @Test
    void newestAfterEachClickIsTheModelCoresStateAfterThatClick() throws Exception {
        UserStore store = store(slot);
        InterestState core = reference.newState();
        for (int k = 1; k <= T + 5; k++) {
            assertThat(store.click(USER, hash(k - 1), item(k - 1), category(k - 1), 0, UserStore.UNTRACKED))
                    .isEqualTo(UserStore.ClickOutcome.APPLIED);
            core.append(reference, item(k - 1), category(k - 1));
            StoredUser u = slot.get();
            assertComputed(u.newest(), core.stateAt(core.windowLength() - 1), "newest after " + k + " clicks");
            assertThat(u.totalClicks()).isEqualTo(k);
            assertThat(u.windowLength()).isEqualTo(Math.min(k, T));
            assertThat(u.capacity).isEqualTo(T);
            assertThat(u.modelFingerprint()).isEqualTo(MODEL.fingerprint64());
            int oldest = k - u.windowLength(); // the clicks before it left the window
            for (int t = 0; t < u.windowLength(); t++) {
                assertThat(u.itemAt(t)).as("item %d after %d clicks", t, k).isEqualTo(item(oldest + t));
                assertThat(u.categoryAt(t)).as("category %d after %d clicks", t, k).isEqualTo(category(oldest + t));
            }
        }
    }

    @Test
    void firstIsTheStateAfterTheWindowsOldestClickAndAdvancesOnceTheWindowIsFull() throws Exception {
        UserStore store = store(slot);
        float[] afterClick1 = core(reference, 0, 1).stateAt(0);
        for (int k = 1; k <= T + 5; k++) {
            clicks(store, k - 1, k, 0);
            StoredUser u = slot.get();
            if (k <= T) {
                assertComputed(u.first, afterClick1, "first after " + k + " clicks (the oldest is still click 1)");
            } else {
                // the oldest click in the window is click k − T + 1 (1-based): the streaming state after it
                int oldest = k - T + 1;
                assertComputed(u.first, core(reference, 0, oldest).stateAt(oldest - 1), "first after " + k + " clicks");
            }
        }
        // T + 5 clicks: clicks 1 … 5 left the window, whose oldest is click 6
        assertComputed(slot.get().first, core(reference, 0, 6).stateAt(5), "first after T + 5 clicks");
    }

    // ---- request path -----------------------------------------------------------------------

    @ParameterizedTest(name = "{0} clicks")
    @ValueSource(ints = {1, 2, 13, T, T + 1, 2 * T + 7})
    void loadReplaysTheWindowAsTheModelCoreStreamsIt(int k) throws Exception {
        UserStore store = store(slot);
        clicks(store, 0, k, 0);
        InterestState window = store.load(USER, 0, UserStore.UNTRACKED);
        InterestState core = core(reference, 0, k);
        assertThat(window).isNotNull();
        assertSameWindow(window, core);
        assertThat(scores(window, scorer)).containsExactly(scores(core, reference), within(Reproducibility.TOLERANCE));
        assertThat(events.resets).isEmpty();
    }

    @Test
    void loadOfAUserWithoutStateIsNullAndWritesNothing() throws Exception {
        CountingSlot counting = new CountingSlot();
        assertThat(store(counting).load(USER, 5, at(5))).isNull();
        assertThat(counting.puts).isZero();
        assertThat(counting.get()).isNull();
    }

    @Test
    void aRequestWritesTheUserOnlyWhenItsActivityMoved() throws Exception {
        CountingSlot counting = new CountingSlot();
        UserStore store = store(counting);
        clicks(store, 0, 3, 0);
        int afterClicks = counting.puts;
        assertThat(afterClicks).isEqualTo(3); // one value written per click
        store.load(USER, 0, UserStore.UNTRACKED);
        assertThat(counting.puts).as("a request that moves no activity mark writes nothing").isEqualTo(afterClicks);
        store.load(USER, 3_600_000, at(3_600_000));
        assertThat(counting.puts).isEqualTo(afterClicks + 1);
        assertThat(counting.get().lastActive).isEqualTo(3_600_000);
        store.load(USER, 3_600_000, at(3_600_000));
        assertThat(counting.puts).isEqualTo(afterClicks + 1);
    }

    // ---- de-duplication -----------------------------------------------------------------------

    @Test
    void aDuplicateLeavesTheStoredUserEqualAndWritesNothing() throws Exception {
        CountingSlot counting = new CountingSlot();
        UserStore store = store(counting);
        clicks(store, 0, 6, 100);
        StoredUser before = counting.get();
        int puts = counting.puts;
        // a producer retry of click 2, within the horizon, with other ids (only the event id counts)
        assertThat(store.click(USER, hash(2), item(50), category(5), 200, at(200)))
                .isEqualTo(UserStore.ClickOutcome.DUPLICATE);
        assertThat(counting.get()).isEqualTo(before);
        assertThat(counting.puts).isEqualTo(puts);
        assertThat(events.duplicates).isEqualTo(1);
        assertSameWindow(store.load(USER, 0, UserStore.UNTRACKED), core(reference, 0, 6));
    }

    @Test
    void aClickPastTheHorizonForgetsEarlierEventsSoARepeatIsApplied() throws Exception {
        UserStore store = new UserStore(scorer, slot, null, new DedupPolicy(8, 1_000), null, events);
        clicks(store, 0, 1, 0);
        clicks(store, 1, 2, 500);
        // the horizon runs from the newest remembered click (at 500): still within it at 1,500
        assertThat(store.click(USER, hash(0), item(0), category(0), 1_500, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.DUPLICATE);
        assertThat(slot.get().rememberedEvents()).isEqualTo(2);
        // one millisecond later the user has been idle longer than the horizon: a repeat is a new click
        assertThat(store.click(USER, hash(0), item(0), category(0), 1_501, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.APPLIED);
        StoredUser u = slot.get();
        assertThat(u.totalClicks()).isEqualTo(3);
        assertThat(u.rememberedEvents()).as("only the click just applied").isEqualTo(1);
        assertThat(u.recent[0]).isEqualTo(hash(0));
        assertThat(events.duplicates).isEqualTo(1);
    }

    /**
     * An idle user stores no event ids ({@link DedupPolicy}): a request that writes a user idle past
     * the horizon (its activity moved) writes it without them.
     */
    @Test
    void aRequestWritingAUserIdlePastTheHorizonStoresNoEvents() throws Exception {
        UserStore store = new UserStore(scorer, slot, null, new DedupPolicy(8, 1_000), null, events);
        clicks(store, 0, 3, 0);
        assertThat(slot.get().rememberedEvents()).isEqualTo(3);
        assertThat(store.load(USER, 3_600_000, at(3_600_000))).isNotNull(); // an hour later: the activity mark moves, the user is written
        assertThat(slot.get().lastActive).as("the request wrote the user").isEqualTo(3_600_000);
        assertThat(slot.get().rememberedEvents()).as("event ids of a user idle past the horizon").isZero();
    }

    @Test
    void atMostMaxEventsEventIdsAreRememberedTheNewest() throws Exception {
        UserStore store = new UserStore(scorer, slot, null, new DedupPolicy(3, 600_000), null, events);
        clicks(store, 0, 10, 0);
        assertThat(slot.get().rememberedEvents()).isEqualTo(3);
        StoredUser before = slot.get();
        for (int i = 7; i <= 9; i++) {
            assertThat(store.click(USER, hash(i), item(i), category(i), 0, UserStore.UNTRACKED)).as("repeat of click %d", i)
                    .isEqualTo(UserStore.ClickOutcome.DUPLICATE);
        }
        assertThat(slot.get()).isEqualTo(before);
        // click 6 is older than the three remembered: applied again
        assertThat(store.click(USER, hash(6), item(6), category(6), 0, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.APPLIED);
        assertThat(slot.get().totalClicks()).isEqualTo(11);
        assertThat(slot.get().rememberedEvents()).isEqualTo(3);
        assertThat(Arrays.copyOf(slot.get().recent, 3)).containsExactly(hash(8), hash(9), hash(6));
    }

    /**
     * A job restarted with a smaller {@code dien.click.dedup-window} remembers only the newest that
     * many event ids ({@link DedupPolicy}): an older one is applied again, as before the compact layout.
     */
    @Test
    void aSmallerMaxEventsAfterARestartRemembersOnlyTheNewest() throws Exception {
        clicks(new UserStore(scorer, slot, null, new DedupPolicy(8, 600_000), null, events), 0, 5, 0);
        UserStore restarted = new UserStore(scorer, slot, null, new DedupPolicy(2, 600_000), null, events);
        assertThat(restarted.click(USER, hash(4), item(4), category(4), 1, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.DUPLICATE);
        assertThat(restarted.click(USER, hash(3), item(3), category(3), 1, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.DUPLICATE);
        assertThat(restarted.click(USER, hash(1), item(1), category(1), 1, UserStore.UNTRACKED))
                .as("a repeat of click 1, older than the newest two event ids").isEqualTo(UserStore.ClickOutcome.APPLIED);
        assertThat(slot.get().totalClicks()).isEqualTo(6);
        assertThat(slot.get().rememberedEvents()).isEqualTo(2);
    }

    // ---- another model ------------------------------------------------------------------------

    @Test
    void aUserOfAnotherModelIsRebuiltOnItsNextRequestFromItsNewestClicks() throws Exception {
        clicks(store(slot), 0, 25, 0); // window: clicks 5 … 24 under the official model
        UserStore upgraded = new UserStore(torchScorer, slot, null, DEDUP, null, events);
        InterestState window = upgraded.load(USER, 0, UserStore.UNTRACKED);
        // windowed semantics: the torch extractor from zero over the newest T' = 12 stored clicks
        InterestState expected = core(torchReference, 13, 25);
        assertSameWindow(window, withTotal(expected, 25, torchReference));
        assertThat(scores(window, torchScorer)).containsExactly(scores(expected, torchReference),
                within(Reproducibility.TOLERANCE));
        assertThat(events.rebuilds).isEqualTo(1);
        StoredUser u = slot.get();
        assertStoredAs(u, withTotal(expected, 25, torchReference));
        assertThat(u.capacity).isEqualTo(12);
        assertThat(u.newest()).hasSize(16);
        // de-duplication data survive the rebuild: the newest 8 event ids
        assertThat(Arrays.copyOf(u.recent, u.rememberedEvents()))
                .containsExactly(IntStream.range(17, 25).mapToLong(UserStoreTest::hash).toArray());
        // rebuilt once: the next request loads it as any user of the current model
        assertSameWindow(upgraded.load(USER, 0, UserStore.UNTRACKED), withTotal(expected, 25, torchReference));
        assertThat(events.rebuilds).isEqualTo(1);
    }

    @Test
    void aUserOfAnotherModelIsRebuiltBeforeItsNextClickIsApplied() throws Exception {
        clicks(store(slot), 0, 25, 0);
        UserStore upgraded = new UserStore(torchScorer, slot, null, DEDUP, null, events);
        assertThat(upgraded.click(USER, hash(25), item(25), category(25), 0, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.APPLIED);
        assertThat(events.rebuilds).isEqualTo(1);
        // rebuilt from zero over clicks 13 … 24, then click 25 appended: the window is 14 … 25
        assertStoredAs(slot.get(), withTotal(core(torchReference, 13, 26), 26, torchReference));
    }

    /**
     * {@code s} with {@code total} clicks over its life (a rebuilt window holds fewer than the user
     * made), through the model core's own loading path.
     */
    private static InterestState withTotal(InterestState s, long total, DienScorer sc) {
        int n = s.windowLength();
        InterestState out = sc.newState();
        out.reset(s.modelFingerprint(), s.capacity(), s.stateAt(0).length, total, n, n == s.capacity() ? 0 : n);
        for (int t = 0; t < n; t++) {
            out.put(t, s.itemAt(t), s.categoryAt(t), s.stateAt(t));
        }
        return out;
    }

    // ---- states computed by other kernels --------------------------------------------------------

    /**
     * The same model under the portable kernels ({@link Kernels#scalar}), as a job computes it when
     * started without the Vector API, with {@code dien.kernels=scalar}, or (by the preferred vector
     * width) on another CPU: its states agree with this JVM's to float rounding, not bit for bit.
     */
    private static DienScorer otherKernels() {
        assertThat(Kernels.best()).as("precondition: this JVM runs the Vector API kernels").isNotSameAs(Kernels.scalar());
        return DienModel.from(OFFICIAL, Kernels.scalar()).newScorer();
    }

    /**
     * A savepoint restored where the kernels round differently (another CPU, a build with changed
     * kernels, the portable kernels) keeps its users: they load and score as the model core, to the
     * reproducibility tolerance the project states ({@link Reproducibility}).
     */
    @Test
    void aUserWhoseStatesOtherKernelsComputedLoadsAndScores() throws Exception {
        DienScorer other = otherKernels();
        clicks(new UserStore(other, slot, null, DEDUP, null, events), 0, 25, 0);
        InterestState core = core(reference, 0, 25);
        assertThat(slot.get().newest()).as("precondition: other kernels, the same states to float rounding")
                .containsExactly(core.stateAt(T - 1), within(Reproducibility.TOLERANCE));
        InterestState window = store(slot).load(USER, 0, UserStore.UNTRACKED);
        assertThat(events.resets).as("users reset for the rounding of the kernels that computed them").isEmpty();
        assertThat(window).isNotNull();
        assertThat(window.windowLength()).isEqualTo(T);
        assertThat(scores(window, scorer)).containsExactly(scores(core, reference), within(Reproducibility.TOLERANCE));
    }

    /** The same for a user of the earlier layout: what {@code StateMigrationTest}'s first fixture needs. */
    @Test
    void aLegacyUserWhoseStatesOtherKernelsComputedConvertsAndScores() throws Exception {
        LegacyMap legacy = legacyUser(otherKernels(), 25, 8);
        InterestState window = new UserStore(scorer, slot, legacy, DEDUP, null, events).load(USER, 0, UserStore.UNTRACKED);
        assertThat(events.resets).as("users reset for the rounding of the kernels that computed them").isEmpty();
        assertThat(window).isNotNull();
        assertThat(events.conversions).isEqualTo(1);
        InterestState core = coreOfLegacy(reference, USER, 25);
        assertThat(scores(window, scorer)).containsExactly(scores(core, reference), within(Reproducibility.TOLERANCE));
    }

    // ---- corrupt users --------------------------------------------------------------------------

    /** The held user with 5 clicks, changed by {@code corrupt} as bad bytes or a bad writer could have left it. */
    private void storeCorrupted(java.util.function.Consumer<StoredUser> corrupt) throws Exception {
        clicks(store(slot), 0, 5, 0);
        StoredUser u = slot.get();
        corrupt.accept(u);
        slot.put(u);
    }

    private void assertResetOnLoad() throws Exception {
        assertThat(store(slot).load(USER, 0, UserStore.UNTRACKED)).as("a corrupt user loads as none").isNull();
        assertThat(events.resets).containsExactly(USER);
        assertThat(slot.get()).as("the corrupt user's state is cleared").isNull();
    }

    @Test
    void aUserWithMoreClicksThanItsWindowHoldsIsResetOnLoad() throws Exception {
        storeCorrupted(u -> {
            u.count = T + 1;
            u.totalClicks = T + 1;
            u.items = Arrays.copyOf(u.items, T + 1);
            u.categories = Arrays.copyOf(u.categories, T + 1);
        });
        assertResetOnLoad();
    }

    @Test
    void aUserWhoseFirstAndNewestStatesDifferInLengthIsResetOnTheClickPathAndStartsAgain() throws Exception {
        storeCorrupted(u -> u.first = Arrays.copyOf(u.first, 5));
        clicks(store(slot), 5, 6, 0);
        assertThat(events.resets).containsExactly(USER);
        // the click was applied to a fresh user: one click, the model core's state after it
        assertStoredAs(slot.get(), core(reference, 5, 6));
    }

    @Test
    void aUserOfTheModelsFingerprintWithAnotherHiddenSizeIsReset() throws Exception {
        storeCorrupted(u -> {
            u.first = new float[16];
            u.newest = new float[16];
        });
        assertResetOnLoad();
    }

    @Test
    void aUserWhoseReplayDoesNotEndOnItsNewestStateIsReset() throws Exception {
        // a newest state the window's replay cannot end on: the state after its oldest click instead.
        // (Not a one-ulp change: states of another build or CPU may differ from this one's that much.)
        storeCorrupted(u -> u.newest = u.first.clone());
        assertResetOnLoad();
    }

    @Test
    void aUserWhoseReplayDoesNotEndOnItsNewestStateIsResetFromTheCacheToo() throws Exception {
        KeyedSlots slots = new KeyedSlots();
        slots.current = USER;
        UserStore cached = new UserStore(scorer, slots, null, DEDUP, new UserWindowCache(4), events);
        clicks(cached, 0, 5, 0);
        cached.load(USER, 0, UserStore.UNTRACKED); // cached now
        StoredUser u = slots.get();
        u.newest = u.first.clone(); // a newest state the replay does not end on
        slots.put(u); // behind the cache's back, as bad bytes would be
        assertThat(cached.load(USER, 0, UserStore.UNTRACKED)).isNull();
        assertThat(events.resets).containsExactly(USER);
        assertThat(slots.get()).isNull();
        assertThat(cached.cache().peek(USER)).isNull();
    }

    /**
     * Bytes the serializer cannot read are a corrupt user like any other ({@link CorruptUserException}:
     * reset, not a failure on every restart): truncated bytes, an unknown format, and a window
     * longer than its capacity, as RocksDB hands them to the store.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"truncated", "unknown format", "more clicks than the window holds"})
    void unreadableStoredBytesAreResetLikeAnyCorruptUser(String damage) throws Exception {
        BytesSlot bytes = new BytesSlot();
        clicks(store(bytes), 0, 5, 0);
        assertThat(bytes.get().totalClicks()).as("the serialized slot round-trips").isEqualTo(5);
        switch (damage) {
            case "truncated" -> bytes.bytes = Arrays.copyOf(bytes.bytes, bytes.bytes.length - 3);
            case "unknown format" -> bytes.bytes[0] = 77;
            default -> {
                StoredUser u = bytes.get();
                u.count = T + 1;
                u.totalClicks = T + 1;
                u.items = Arrays.copyOf(u.items, T + 1);
                u.categories = Arrays.copyOf(u.categories, T + 1);
                bytes.put(u);
            }
        }
        assertThat(store(bytes).load(USER, 0, UserStore.UNTRACKED)).as("a user whose bytes cannot be read loads as none")
                .isNull();
        assertThat(events.resets).containsExactly(USER);
        assertThat(bytes.bytes).as("the unreadable bytes are cleared").isNull();
    }

    @Test
    void storedReportsACorruptUserWithoutResettingIt() throws Exception {
        storeCorrupted(u -> u.first = Arrays.copyOf(u.first, 5));
        assertThatThrownBy(() -> store(slot).stored()).isInstanceOf(CorruptUserException.class);
        assertThat(slot.get()).as("a reader that must not write leaves the user in place").isNotNull();
        assertThat(events.resets).isEmpty();
    }

    @Test
    void aFailureOfTheStateBackendIsNotTakenForACorruptUser() {
        UserStore.Slot failing = new UserStore.Slot() {
            @Override
            public StoredUser get() {
                throw new IllegalStateException("the state backend failed");
            }

            @Override
            public void put(StoredUser u) {}

            @Override
            public void clear() {
                throw new AssertionError("a user must not be cleared for a failure of the backend");
            }
        };
        assertThatThrownBy(() -> store(failing).load(USER, 0, UserStore.UNTRACKED))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("the state backend failed");
        assertThat(events.resets).isEmpty();
    }

    @Test
    void aLegacyUserWhoseHeaderAndEntriesDisagreeIsResetInBothLayouts() throws Exception {
        LegacyMap legacy = LegacyMap.of(LegacyUsers.built(reference, USER, 5, OFFICIAL.longs("vocab.item"),
                OFFICIAL.longs("vocab.category"), 8));
        legacy.header.count = 6; // the header claims a click the entries do not hold
        legacy.header.next = 6;
        legacy.header.totalClicks = 6;
        UserStore store = new UserStore(scorer, slot, legacy, DEDUP, null, events);
        assertThat(store.load(USER, 0, UserStore.UNTRACKED)).isNull();
        assertThat(events.resets).containsExactly(USER);
        assertThat(legacy.header).isNull();
        assertThat(legacy.entries).isEmpty();
        assertThat(slot.get()).isNull();
        assertThat(events.conversions).isZero();
    }

    // ---- the earlier layout ---------------------------------------------------------------------

    private LegacyMap legacyUser(DienScorer builder, int clicks, int ring) {
        LegacyMap m = LegacyMap.of(LegacyUsers.built(builder, USER, clicks, OFFICIAL.longs("vocab.item"),
                OFFICIAL.longs("vocab.category"), ring));
        m.header.lastActive = 7_200_000;
        m.header.expiryTimer = 7_200_000 + 1_213_200_000;
        return m;
    }

    /**
     * {@code u} is the legacy user of {@code clicks} clicks and a ring of {@code ring} event ids,
     * converted exactly: its ids (by {@link LegacyUsers#built}'s formula), {@code first} the stored
     * entry of its oldest click, {@code newest} the header's state (both also the model core's
     * streaming states), the newest {@code min(ring, clicks)} event hashes oldest first, its expiry data.
     */
    private void assertConverted(StoredUser u, LegacyMap legacy, int clicks, int ring) {
        int n = Math.min(clicks, T);
        InterestState core = coreOfLegacy(reference, USER, clicks);
        assertThat(u.modelFingerprint()).isEqualTo(MODEL.fingerprint64());
        assertThat(u.capacity).isEqualTo(T);
        assertThat(u.totalClicks()).isEqualTo(clicks);
        assertThat(u.windowLength()).isEqualTo(n);
        for (int t = 0; t < n; t++) {
            assertThat(u.itemAt(t)).as("item %d", t).isEqualTo(legacyItem(USER, clicks - n + t));
            assertThat(u.categoryAt(t)).as("category %d", t).isEqualTo(legacyCategory(USER, clicks - n + t));
        }
        // the earlier ring: slots 0 … n − 1 until full, then the oldest click at slot clicks mod T
        int oldestSlot = clicks < T ? 0 : clicks % T;
        assertCopied(u.first, legacy.entries.get(oldestSlot).state, "first: the stored state of the oldest click");
        assertComputed(u.first, core.stateAt(0), "first: the model core's state after the oldest click");
        assertCopied(u.newest, legacy.header.lastState, "newest: the header's state");
        assertComputed(u.newest, core.stateAt(n - 1), "newest: the model core's state after the newest click");
        int kept = Math.min(ring, clicks);
        assertThat(u.rememberedEvents()).isEqualTo(kept);
        assertThat(Arrays.copyOf(u.recent, kept)).containsExactly(
                IntStream.range(clicks - kept, clicks).mapToLong(i -> LegacyUsers.eventHash(USER, i)).toArray());
        assertThat(u.lastActive).isEqualTo(7_200_000);
        assertThat(u.expiryTimer).isEqualTo(7_200_000 + 1_213_200_000);
    }

    @ParameterizedTest(name = "{0} clicks, a ring of {1} event ids")
    @CsvSource({"1, 8", "5, 8", "20, 8", "25, 8", "25, 64", "70, 64"})
    void aLegacyUserConvertsExactly(int clicks, int ring) throws Exception {
        LegacyMap legacy = legacyUser(reference, clicks, ring);
        StoredUser u = new UserStore(scorer, slot, legacy, DEDUP, null, events).stored();
        assertConverted(u, legacy, clicks, ring);
        assertThat(legacy.header).as("reading converts without writing").isNotNull();
        assertThat(slot.get()).isNull();
    }

    @Test
    void aLegacyUserIsConvertedOnItsNextRequest() throws Exception {
        LegacyMap legacy = legacyUser(reference, 25, 8);
        LegacyMap expected = legacyUser(reference, 25, 8);
        UserStore store = new UserStore(scorer, slot, legacy, DEDUP, null, events);
        InterestState window = store.load(USER, 0, UserStore.UNTRACKED);
        InterestState core = coreOfLegacy(reference, USER, 25);
        assertSameWindow(window, core);
        assertThat(scores(window, scorer)).containsExactly(scores(core, reference), within(Reproducibility.TOLERANCE));
        assertThat(events.conversions).isEqualTo(1);
        assertThat(events.resets).isEmpty();
        assertThat(legacy.header).as("the earlier layout's header, cleared").isNull();
        assertThat(legacy.entries).as("the earlier layout's entries, cleared").isEmpty();
        assertConverted(slot.get(), expected, 25, 8);
        // converted once: the next request reads the new layout only
        store.load(USER, 0, UserStore.UNTRACKED);
        assertThat(events.conversions).isEqualTo(1);
    }

    @Test
    void aLegacyUserIsConvertedOnItsNextClick() throws Exception {
        LegacyMap legacy = legacyUser(reference, 25, 8);
        UserStore store = new UserStore(scorer, slot, legacy, DEDUP, null, events);
        long item = legacyItem(USER, 25);
        long category = legacyCategory(USER, 25);
        assertThat(store.click(USER, hash(99), item, category, 7_200_000, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.APPLIED);
        assertThat(events.conversions).isEqualTo(1);
        assertThat(legacy.header).isNull();
        assertThat(legacy.entries).isEmpty();
        assertStoredAs(slot.get(), coreOfLegacy(reference, USER, 26));
        assertThat(slot.get().rememberedEvents()).as("the 8 old event ids and the new one, at most 8").isEqualTo(8);
        assertSameWindow(store.load(USER, 0, UserStore.UNTRACKED), coreOfLegacy(reference, USER, 26));
    }

    @Test
    void aLegacyUsersRememberedEventIdsStillDeduplicate() throws Exception {
        LegacyMap legacy = legacyUser(reference, 25, 8);
        UserStore store = new UserStore(scorer, slot, legacy, DEDUP, null, events);
        long newest = LegacyUsers.eventHash(USER, 24);
        long oldestRemembered = LegacyUsers.eventHash(USER, 17);
        long forgotten = LegacyUsers.eventHash(USER, 16);
        // before conversion: a duplicate writes nothing, so the user stays in the earlier layout
        assertThat(store.click(USER, newest, 1, 1, 7_200_000, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.DUPLICATE);
        assertThat(legacy.header).isNotNull();
        assertThat(slot.get()).isNull();
        store.load(USER, 0, UserStore.UNTRACKED); // converted
        assertThat(events.conversions).isEqualTo(1);
        StoredUser converted = slot.get();
        assertThat(store.click(USER, oldestRemembered, 1, 1, 7_200_000, UserStore.UNTRACKED))
                .isEqualTo(UserStore.ClickOutcome.DUPLICATE);
        assertThat(slot.get()).isEqualTo(converted);
        assertThat(events.duplicates).isEqualTo(2);
        // an id older than the earlier ring held is not remembered: applied
        assertThat(store.click(USER, forgotten, legacyItem(USER, 25), legacyCategory(USER, 25), 7_200_000,
                UserStore.UNTRACKED)).isEqualTo(UserStore.ClickOutcome.APPLIED);
        assertThat(slot.get().totalClicks()).isEqualTo(26);
    }

    @Test
    void aLegacyUserOfAnotherModelIsConvertedAndRebuilt() throws Exception {
        LegacyMap legacy = legacyUser(torchReference, 15, 8); // T' = 12: a wrapped ring of the torch model
        UserStore store = new UserStore(scorer, slot, legacy, DEDUP, null, events);
        InterestState window = store.load(USER, 0, UserStore.UNTRACKED);
        // its 12 stored clicks (3 … 14), from zero under the official model
        InterestState expected = reference.newState();
        for (int i = 3; i < 15; i++) {
            expected.append(reference, legacyItem(USER, i), legacyCategory(USER, i));
        }
        assertSameWindow(window, withTotal(expected, 15, reference));
        assertThat(events.conversions).isEqualTo(1);
        assertThat(events.rebuilds).isEqualTo(1);
        assertThat(legacy.header).isNull();
        assertStoredAs(slot.get(), withTotal(expected, 15, reference));
    }

    // ---- window cache ---------------------------------------------------------------------------

    /** The same events through a store with a window cache and one without, each over its own keyed state. */
    private final class CachedAndUncached {
        final KeyedSlots cachedState = new KeyedSlots();
        final KeyedSlots uncachedState = new KeyedSlots();
        final UserWindowCache cache;
        final DienScorer uncachedScorer = MODEL.newScorer();
        final UserStore cached;
        final UserStore uncached;
        final Map<Long, Integer> clicks = new HashMap<>();

        CachedAndUncached(int users) {
            cache = new UserWindowCache(users);
            cached = new UserStore(scorer, cachedState, null, DEDUP, cache, events);
            uncached = new UserStore(uncachedScorer, uncachedState, null, DEDUP, null, new Recorded());
        }

        void clicks(long user, int n) throws Exception {
            cachedState.current = user;
            uncachedState.current = user;
            for (int j = 0; j < n; j++) {
                int i = clicks.merge(user, 1, Integer::sum) - 1;
                long hash = user * 1_000 + i;
                cached.click(user, hash, item(i + (int) user), category(i), 0, UserStore.UNTRACKED);
                uncached.click(user, hash, item(i + (int) user), category(i), 0, UserStore.UNTRACKED);
            }
        }

        /** A request to both: the same CTRs bit for bit, and the model core's. */
        void request(long user) throws Exception {
            cachedState.current = user;
            uncachedState.current = user;
            InterestState a = cached.load(user, 0, UserStore.UNTRACKED);
            float[] withCache = scores(a, scorer);
            float[] without = scores(uncached.load(user, 0, UserStore.UNTRACKED), uncachedScorer);
            assertThat(bits(withCache)).as("user %d: cached and uncached CTRs, bit for bit", user)
                    .containsExactly(bits(without));
            int n = clicks.getOrDefault(user, 0);
            InterestState core = reference.newState();
            for (int i = 0; i < n; i++) {
                core.append(reference, item(i + (int) user), category(i));
            }
            assertSameWindow(a, core);
            assertThat(withCache).containsExactly(scores(core, reference), within(Reproducibility.TOLERANCE));
        }
    }

    @Test
    void aCachedWindowScoresExactlyAsAnUncachedStoreThroughClicksAndEviction() throws Exception {
        CachedAndUncached run = new CachedAndUncached(2);
        run.clicks(1, 25); // more than T
        run.clicks(2, 5);
        run.clicks(3, 12);
        run.request(1); // miss
        run.request(1); // hit
        assertThat(run.cache.hits()).isEqualTo(1);
        run.clicks(1, 3); // appended to the cached copy
        run.request(1); // hit, with the new clicks
        assertThat(run.cache.hits()).isEqualTo(2);
        run.request(2); // miss
        run.request(3); // miss, evicts user 1
        assertThat(run.cache.peek(1)).isNull();
        run.clicks(1, 1);
        run.request(1); // miss
        assertThat(run.cache.hits()).isEqualTo(2);
        assertThat(run.cache.misses()).isEqualTo(4);
        assertThat(run.cache.size()).isEqualTo(2);
    }

    @Test
    void aCachedWindowIsNotServedForAUserChangedBehindTheCache() throws Exception {
        CachedAndUncached run = new CachedAndUncached(4);
        run.clicks(1, 7);
        run.request(1); // cached
        // another writer (a store without this cache) applies a click to the same stored user
        run.cachedState.current = 1;
        new UserStore(MODEL.newScorer(), run.cachedState, null, DEDUP, null, new Recorded())
                .click(1, 1_007, item(8), category(7), 0, UserStore.UNTRACKED);
        run.uncachedState.current = 1;
        run.uncached.click(1, 1_007, item(8), category(7), 0, UserStore.UNTRACKED);
        run.clicks.put(1L, 8);
        run.request(1); // the cached entry no longer matches the stored user: a miss, loaded from state
        assertThat(run.cache.hits()).isZero();
        assertThat(run.cache.misses()).isEqualTo(2);
    }

    @Test
    void clearRemovesTheUserFromBothLayoutsAndTheCache() throws Exception {
        KeyedSlots slots = new KeyedSlots();
        slots.current = USER;
        LegacyMap legacy = legacyUser(reference, 3, 8);
        UserStore store = new UserStore(scorer, slots, legacy, DEDUP, new UserWindowCache(4), events);
        clicks(store, 0, 2, 0); // converts the legacy user and appends
        store.load(USER, 0, UserStore.UNTRACKED);
        assertThat(store.cache().peek(USER)).isNotNull();
        store.clear(USER);
        assertThat(slots.get()).isNull();
        assertThat(legacy.header).isNull();
        assertThat(store.cache().peek(USER)).isNull();
        assertThat(store.load(USER, 0, UserStore.UNTRACKED)).isNull();
    }
}

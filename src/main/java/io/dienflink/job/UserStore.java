package io.dienflink.job;

import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Ring;
import java.util.Map;

/**
 * The one home of a user's stored state ({@link StoredUser}): reading it (and converting a user of
 * the earlier layout), loading its window for scoring, applying a click, replacing it with a rebuilt
 * user, clearing it, and the policies that go with them: de-duplication, the rebuild of a user built
 * by another model, the reset of a user whose stored bytes are unreadable or inconsistent, and the
 * heap cache of recently scored windows. The scoring operator, {@code migrate} and {@code bootstrap}
 * all store users through it; the operator keeps only events, timers, metrics and output.
 *
 * <p>A store serves the current user of its {@link Slot} (Flink's keyed state is bound to the
 * current key), so each method takes the user id only for the cache and for logs. It uses one
 * {@link DienScorer} and is therefore confined to one thread.
 *
 * <p><b>Click</b>: the newest state advances one cell step; once the window is full the oldest
 * click leaves and {@code first} advances one cell step over the new oldest click: two steps at
 * most, and one value written. <b>Request</b>: one value read and T − 1 cell steps replayed from
 * {@code first} (the same single-row steps as the click path, so the replay ends on the stored newest
 * state bit for bit: anything else is a corrupt user, reset). <b>Model upgrade</b>: a user stored by
 * another model is rebuilt on its next event by replaying its window from zero (windowed semantics,
 * as every upgrade of this product), T steps: no pass over all users.
 */
public final class UserStore {
    /** Where the current user's value lives: the operator's {@code ValueState}, or a plain field in tests. */
    public interface Slot {
        StoredUser get() throws Exception;

        void put(StoredUser u) throws Exception;

        void clear() throws Exception;
    }

    /** The current user's state in the layout of releases before the compact one (read, converted, cleared). */
    public interface LegacySlot {
        /** The user's header, or null when the user has none in that layout. */
        UserHeader header() throws Exception;

        Iterable<Map.Entry<Integer, ClickEntry>> entries() throws Exception;

        void clear() throws Exception;
    }

    /** What the store reports to its owner's metrics. */
    public interface Events {
        default void duplicate() {}

        default void rebuilt() {}

        /** The user's stored state could not be read and was removed. */
        default void reset(long user, String reason) {}

        /** A user of the earlier layout was converted. */
        default void converted() {}
    }

    /**
     * Moves a user's activity mark (and its expiry timer) to now; true when that changed the user. The
     * store calls it before each write of the user and, on a request, writes the user only when it
     * returns true.
     */
    public interface Activity {
        boolean touch(StoredUser u);
    }

    /** A slot over the operator's per-user value state. */
    public static Slot slot(org.apache.flink.api.common.state.ValueState<StoredUser> state) {
        return new Slot() {
            @Override
            public StoredUser get() throws Exception {
                return state.value();
            }

            @Override
            public void put(StoredUser u) throws Exception {
                state.update(u);
            }

            @Override
            public void clear() {
                state.clear();
            }
        };
    }

    /** The earlier layout's states of the current user. */
    public static LegacySlot legacySlot(org.apache.flink.api.common.state.ValueState<UserHeader> header,
                                        org.apache.flink.api.common.state.MapState<Integer, ClickEntry> window) {
        return new LegacySlot() {
            @Override
            public UserHeader header() throws Exception {
                return header.value();
            }

            @Override
            public Iterable<Map.Entry<Integer, ClickEntry>> entries() throws Exception {
                return window.entries();
            }

            @Override
            public void clear() {
                header.clear();
                window.clear();
            }
        };
    }

    /**
     * A slot holding the user on the heap, for building users outside keyed state (bootstrap, tests).
     * It hands out and keeps copies, as keyed state does, so a caller's later changes never reach it.
     */
    public static final class Held implements Slot {
        private StoredUser user;

        @Override
        public StoredUser get() {
            return user == null ? null : user.copy();
        }

        @Override
        public void put(StoredUser u) {
            user = u.copy();
        }

        @Override
        public void clear() {
            user = null;
        }
    }

    /**
     * How far a replayed window may end from the stored newest state before the user counts as
     * corrupt. States from another build or CPU differ by an ulp or two (measured: at most 2.4e-7
     * between the scalar and the vector kernels over 720 states); anything that is not the user's
     * history differs by orders of magnitude more (GRU states lie in (−1, 1)).
     */
    public static final float REPLAY_TOLERANCE = 1e-4f;

    /** No activity bookkeeping: for writers outside the job (bootstrap, migrate, tests). */
    public static final Activity UNTRACKED = u -> false;

    /**
     * Makes {@code u}, built with {@link #click} outside the job ({@code bootstrap}, with
     * {@link #UNTRACKED} activity), the user the operator would keep after its last event at processing
     * time {@code now} under {@code dien.state.inactivity-expiry} = {@code inactivityMs}: active in the
     * bucket of {@code now}, with the expiry timer the operator registers for that bucket
     * (a savepoint writer must register {@link StoredUser#expiryTimer()}, as
     * {@link SavepointMigration#write} does), and no remembered click event ids: its clicks did not
     * come through Kafka, so no record on the clicks topic can repeat one.
     */
    public static void settle(StoredUser u, long now, long inactivityMs) {
        long bucketMs = InterestScorer.activityBucketMs(inactivityMs);
        u.lastActive = InterestScorer.activityBucket(now, bucketMs);
        u.expiryTimer = InterestScorer.expiryTimer(u.lastActive, inactivityMs, bucketMs);
        u.recent = new long[0];
        u.recentCount = 0;
        u.lastClickAt = 0;
    }

    /** The outcome of {@link #click}. */
    public enum ClickOutcome { APPLIED, DUPLICATE }

    private final DienScorer scorer;
    private final Slot slot;
    private final LegacySlot legacy;
    private final DedupPolicy dedup;
    private final UserWindowCache cache;
    private final Events events;
    private final int hidden;
    /** The window loaded for the current request when there is no cache; reused. */
    private final InterestState loaded;
    /** A window replayed by a rebuild; reused. */
    private final InterestState scratch;

    /**
     * @param legacy the earlier layout's state of the same user, or null when there is none to read
     * @param cache recently scored windows, or null for none
     */
    public UserStore(DienScorer scorer, Slot slot, LegacySlot legacy, DedupPolicy dedup, UserWindowCache cache,
                     Events events) {
        this.scorer = scorer;
        this.slot = slot;
        this.legacy = legacy;
        this.dedup = dedup;
        this.cache = cache;
        this.events = events;
        this.hidden = scorer.model().config().hiddenDim();
        this.loaded = scorer.newState();
        this.scratch = scorer.newState();
    }

    /**
     * The current user as stored (converted from the earlier layout when it is only there, without
     * writing), or null for none. A user whose stored bytes fail the checks is reset (cleared,
     * reported, and null returned): the same bytes would fail every retry.
     */
    public StoredUser read(long user) throws Exception {
        try {
            return stored();
        } catch (Exception e) {
            // RocksDB's value state passes a serializer's IOException through unwrapped
            reset(user, e);
            return null;
        }
    }

    /**
     * The current user as stored, converted from the earlier layout when it is only there (without
     * writing), or null for none; for readers that must not write (a savepoint reader).
     *
     * @throws CorruptUserException (possibly wrapped by the state backend) if its stored bytes fail the checks
     */
    public StoredUser stored() throws Exception {
        StoredUser u = slot.get();
        if (u == null && legacy != null) {
            UserHeader h = legacy.header();
            if (h != null) {
                UserWindows.checkStored(h, scorer.model());
                u = fromLegacy(h, legacy.entries());
                u.legacy = true;
            }
        }
        if (u != null) {
            check(u);
        }
        return u;
    }

    /** {@code u} rebuilt under the scorer's model when another model built it, else {@code u} itself. */
    public StoredUser underCurrentModel(StoredUser u) {
        return u.modelFingerprint == scorer.model().fingerprint64() ? u : rebuilt(u, scratch);
    }

    /**
     * Applies a click at processing time {@code now}: unless its event hash is remembered (then the
     * stored user is left exactly as it was), the newest state advances one cell step, the window
     * takes the click's ids, and the user is written.
     */
    public ClickOutcome click(long user, long eventHash, long itemId, long categoryId, long now, Activity activity)
            throws Exception {
        StoredUser u = read(user);
        if (u != null) {
            u.boundEvents(dedup, now);
            if (u.remembers(eventHash)) {
                events.duplicate();
                return ClickOutcome.DUPLICATE;
            }
        }
        if (u == null) {
            u = StoredUser.fresh(scorer.model().fingerprint64(), scorer.model().config().maxHistory(), hidden);
        } else if (u.modelFingerprint != scorer.model().fingerprint64()) {
            invalidate(user);
            u = rebuilt(u, scratch);
            events.rebuilt();
        }
        u.remember(eventHash, now, dedup.maxEvents());
        scorer.advance(u.newest, itemId, categoryId);
        boolean dropped = u.appendIds(itemId, categoryId);
        if (u.count == 1) {
            u.first = u.newest.clone();
        } else if (dropped) {
            scorer.advance(u.first, u.items[0], u.categories[0]);
        }
        activity.touch(u);
        write(u);
        if (cache != null) { // after the write: the cached copy follows what was stored
            cache.clicked(user, u, itemId, categoryId);
        }
        return ClickOutcome.APPLIED;
    }

    /**
     * The current user's window under the scorer's model, for scoring: from the cache when it holds
     * this very user, else replayed from the stored value (a user of another model is rebuilt and
     * written). Null for a user with no state, or one that was just reset. The returned state is the
     * store's (or the cache's) and valid until the next call.
     *
     * <p>The replay must end on the stored newest state within {@link #REPLAY_TOLERANCE}, else the
     * user is corrupt and reset. Not bit for bit: states stored by another build or on a CPU of
     * another vector width (the kernels' summation order follows it) differ from this build's replay
     * in the last ulp or two, and such users must score as before, not lose their history.
     *
     * @param now processing time, for the de-duplication horizon of a user this request writes
     */
    public InterestState load(long user, long now, Activity activity) throws Exception {
        StoredUser u = read(user);
        if (u == null) {
            return null;
        }
        u.boundEvents(dedup, now);
        InterestState window;
        if (u.modelFingerprint != scorer.model().fingerprint64()) {
            invalidate(user);
            window = cache != null ? cache.spare(scorer::newState) : scratch;
            u = rebuilt(u, window);
            events.rebuilt();
            activity.touch(u);
            write(u);
            if (cache != null) {
                cache.put(user, u, window);
            }
        } else {
            window = cache != null ? cache.get(user, u) : null;
            if (window == null) {
                window = scorer.replay(cache != null ? cache.spare(scorer::newState) : loaded, u.totalClicks, u.items,
                        u.categories, u.count, u.count > 0 ? u.first : null);
                if (u.count > 0) {
                    float off = window.newestStateDifference(u.newest);
                    if (!(off <= REPLAY_TOLERANCE)) {
                        reset(user, new CorruptUserException("the window replayed from its first state ends "
                                + off + " away from the stored newest state: " + u));
                        return null;
                    }
                    // the clicks' own state, which the next click advances: the window ends on it exactly
                    int last = u.count - 1;
                    window.put(last, u.items[last], u.categories[last], u.newest);
                }
                if (cache != null) {
                    cache.put(user, u, window);
                }
            }
            if (activity.touch(u) || u.legacy) {
                write(u);
            }
        }
        return window;
    }

    /**
     * Writes {@code u} as the current user (a rebuilt one, or a re-armed timer's), with the
     * de-duplication policy applied at processing time {@code now}.
     */
    public void replace(long user, StoredUser u, long now) throws Exception {
        u.boundEvents(dedup, now);
        invalidate(user);
        write(u);
    }

    /** Removes the current user (expiry), in both layouts. */
    public void clear(long user) throws Exception {
        invalidate(user);
        slot.clear();
        if (legacy != null) {
            legacy.clear();
        }
    }

    /** This store's window cache; null when disabled. */
    UserWindowCache cache() {
        return cache;
    }

    private void write(StoredUser u) throws Exception {
        if (u.legacy && legacy != null) {
            legacy.clear();
        }
        if (u.legacy) {
            events.converted();
            u.legacy = false;
        }
        slot.put(u);
    }

    private void invalidate(long user) {
        if (cache != null) {
            cache.invalidate(user);
        }
    }

    /**
     * The user rebuilt under the scorer's model from its raw clicks (windowed semantics: the
     * extractor from zero over the newest {@code maxHistory} clicks), its window replayed into
     * {@code into}; keeps de-duplication and expiry data.
     */
    private StoredUser rebuilt(StoredUser old, InterestState into) {
        int capacity = scorer.model().config().maxHistory();
        int keep = Math.min(old.count, capacity);
        int from = old.count - keep;
        long[] items = new long[capacity];
        long[] categories = new long[capacity];
        System.arraycopy(old.items, from, items, 0, keep);
        System.arraycopy(old.categories, from, categories, 0, keep);
        StoredUser u = old.copy();
        u.modelFingerprint = scorer.model().fingerprint64();
        u.capacity = capacity;
        u.count = keep;
        u.items = items;
        u.categories = categories;
        u.legacy = old.legacy;
        InterestState w = scorer.replay(into, u.totalClicks, items, categories, keep, null);
        u.first = keep > 0 ? w.stateAt(0) : new float[0];
        u.newest = keep > 0 ? w.stateAt(keep - 1) : new float[hidden];
        return u;
    }

    /** Clears the current user whose stored state {@code e} says is unreadable; rethrows anything else. */
    private void reset(long user, Exception e) throws Exception {
        if (!CorruptUserException.isCorruption(e)) {
            throw e;
        }
        invalidate(user);
        slot.clear();
        if (legacy != null) {
            legacy.clear();
        }
        events.reset(user, CorruptUserException.rootMessage(e));
    }

    /**
     * The invariants every stored user satisfies; a user built by the scorer's model also has its
     * hidden size.
     *
     * @throws CorruptUserException if {@code u} fails one
     */
    void check(StoredUser u) {
        boolean ok = u.capacity > 0 && u.count >= 0 && u.count <= u.capacity && u.totalClicks >= u.count
                && u.items.length >= u.count && u.categories.length >= u.count && u.newest.length > 0
                && (u.count == 0 || u.first.length == u.newest.length) && u.recentCount >= 0
                && u.recentCount <= u.recent.length;
        if (!ok) {
            throw new CorruptUserException("inconsistent stored user " + u + " (state of " + u.newest.length
                    + " floats, first of " + u.first.length + ")");
        }
        if (u.modelFingerprint == scorer.model().fingerprint64()
                && (u.newest.length != hidden || u.capacity != scorer.model().config().maxHistory())) {
            throw new CorruptUserException("a user of " + u.newest.length + " floats and window " + u.capacity
                    + " under the model it names, of hidden size " + hidden + " and window "
                    + scorer.model().config().maxHistory() + ": " + u);
        }
    }

    /**
     * A user of the earlier layout (a header and one entry per click) in this layout, exactly: the ids
     * oldest first, {@code first} the stored state of the oldest click, {@code newest} the header's,
     * and the remembered event hashes the earlier ring held (the newest {@code min(ring, total clicks)}).
     *
     * @throws CorruptUserException if the header and entries disagree
     */
    public static StoredUser fromLegacy(UserHeader h, Iterable<Map.Entry<Integer, ClickEntry>> entries) {
        ClickEntry[] slots = UserWindows.slots(h, entries);
        StoredUser u = new StoredUser();
        u.modelFingerprint = h.modelFingerprint;
        u.capacity = h.capacity;
        u.totalClicks = h.totalClicks;
        u.count = h.count;
        u.items = new long[h.capacity];
        u.categories = new long[h.capacity];
        for (int t = 0; t < h.count; t++) {
            ClickEntry e = slots[Ring.slot(h.capacity, h.count, h.next, t)];
            if (e.state.length != h.lastState.length) {
                throw new CorruptUserException("window entry with a state of " + e.state.length + " floats in " + h);
            }
            u.items[t] = e.itemId;
            u.categories[t] = e.categoryId;
        }
        u.first = h.count > 0 ? slots[Ring.oldest(h.capacity, h.count, h.next)].state.clone() : new float[0];
        u.newest = h.lastState.clone();
        u.lastActive = h.lastActive;
        u.expiryTimer = h.expiryTimer;
        int ring = h.recentEventIds.length;
        int kept = (int) Math.min(ring, h.totalClicks);
        u.recent = new long[kept];
        for (int i = 0; i < kept; i++) {
            u.recent[i] = h.recentEventIds[Math.floorMod(h.recentNext - kept + i, ring)];
        }
        u.recentCount = kept;
        u.lastClickAt = h.lastActive;
        return u;
    }
}

package io.dienflink.model;

/**
 * One user's DIEN interest state: the raw ids of the user's last T clicks, the interest-extractor
 * state after each of them, the number of clicks ever appended, and the fingerprint of the model
 * that computed the states.
 *
 * <p>{@link #append} advances the extractor by exactly one cell step (no replay) and allocates
 * nothing; {@link #score} runs attention, the AUGRU and the head for a request's candidates.
 * Both take the caller's {@link DienScorer}, which holds the model and the scratch buffers. States
 * are kept in a ring buffer, so dropping the oldest click is free. A store that keeps clicks as
 * separate entries (the Flink job) loads a user with {@link #reset} and {@link #put}. Not thread-safe.
 */
public final class InterestState {
    long modelFingerprint;
    int capacity;
    int hidden;
    int stride;
    long totalClicks;
    int count;
    /** The ring slot the next click goes to; the oldest click's slot once the ring is full. */
    int next;
    long[] items;
    long[] categories;
    /** {@code [capacity × stride]}, row per slot; only the first {@code hidden} floats of a row are meaningful. */
    float[] states;

    InterestState(long modelFingerprint, int capacity, int hidden) {
        this.modelFingerprint = modelFingerprint;
        this.capacity = capacity;
        this.hidden = hidden;
        this.stride = Kernels.pad(hidden);
        this.items = new long[capacity];
        this.categories = new long[capacity];
        this.states = new float[capacity * stride];
    }

    /** A user with no clicks, for the given model. */
    public static InterestState empty(DienModel model) {
        return new InterestState(model.fingerprint64(), model.config().maxHistory(), model.config().hiddenDim());
    }

    /**
     * Appends one click: one extractor cell step from the newest state. When the window is full the
     * oldest click is dropped.
     *
     * @throws IllegalStateException if the state was built by another model (see {@link #rebuild})
     */
    public void append(DienScorer scorer, long itemId, long categoryId) {
        scorer.append(this, itemId, categoryId);
    }

    /**
     * Scores candidates against this state.
     *
     * @param userId the user's raw id (selects the user embedding)
     * @param itemIds candidate item ids; the first {@code n} are scored
     * @param categoryIds candidate category ids
     * @param ctr receives one click-through rate per candidate, in candidate order
     */
    public void score(DienScorer scorer, long userId, long[] itemIds, long[] categoryIds, int n,
                      Semantics semantics, float[] ctr) {
        scorer.score(this, userId, itemIds, categoryIds, n, semantics, ctr, null);
    }

    /** Like {@link #score} but also returns the intermediate values, for debugging and tests. */
    public ScoreTrace trace(DienScorer scorer, long userId, long[] itemIds, long[] categoryIds, int n, Semantics semantics) {
        ScoreTrace trace = new ScoreTrace(n);
        scorer.score(this, userId, itemIds, categoryIds, n, semantics, trace.ctr, trace);
        return trace;
    }

    /**
     * Recomputes the states under the scorer's model from the stored raw clicks (windowed
     * semantics: the extractor restarts from zero at the first stored click). A smaller
     * {@code maxHistory} keeps only the newest clicks; a larger one keeps all that are stored.
     */
    public void rebuild(DienScorer scorer) {
        scorer.rebuild(this);
    }

    /** Clicks in the window, at most the model's {@code maxHistory}. */
    public int windowLength() {
        return count;
    }

    /** Clicks appended over the state's life (the window holds the newest of them). */
    public long totalClicks() {
        return totalClicks;
    }

    /** The 64-bit fingerprint of the model that computed the states. */
    public long modelFingerprint() {
        return modelFingerprint;
    }

    /** The most clicks this state keeps (the building model's {@code maxHistory}). */
    public int capacity() {
        return capacity;
    }

    /** Item id of the t-th click of the window, oldest first. */
    public long itemAt(int t) {
        return items[slot(t)];
    }

    /** Category id of the t-th click of the window, oldest first. */
    public long categoryAt(int t) {
        return categories[slot(t)];
    }

    /** A copy of the extractor state after the t-th click of the window, oldest first. */
    public float[] stateAt(int t) {
        float[] out = new float[hidden];
        System.arraycopy(states, slot(t) * stride, out, 0, hidden);
        return out;
    }

    /** The storage slot of the t-th click of the window. */
    int slot(int t) {
        if (t < 0 || t >= count) {
            throw new IndexOutOfBoundsException("click " + t + " of a window of " + count);
        }
        return Ring.slot(capacity, count, next, t);
    }

    /** The storage slot of the oldest click. */
    int oldestSlot() {
        return Ring.oldest(capacity, count, next);
    }

    /**
     * Makes this object hold a stored user whose clicks are then set slot by slot with {@link #put},
     * reusing its arrays when capacity and hidden size allow, so that a store which keeps clicks as
     * separate entries (the Flink job) loads a user per request without allocating. Slot {@code s}
     * follows this class's ring: the window's oldest click is at slot 0 until the ring is full,
     * then at {@code next}.
     *
     * @param next the ring slot the next click would go to
     */
    public void reset(long modelFingerprint, int capacity, int hidden, long totalClicks, int count, int next) {
        if (!Ring.consistent(capacity, count, next) || hidden < 1 || totalClicks < count) {
            throw new IllegalArgumentException("inconsistent state: " + count + " clicks, capacity " + capacity
                    + ", next slot " + next + ", hidden " + hidden + ", total " + totalClicks);
        }
        if (capacity != this.capacity || Kernels.pad(hidden) != stride) {
            this.stride = Kernels.pad(hidden);
            this.items = new long[capacity];
            this.categories = new long[capacity];
            this.states = new float[capacity * stride];
        }
        this.modelFingerprint = modelFingerprint;
        this.capacity = capacity;
        this.hidden = hidden;
        this.totalClicks = totalClicks;
        this.count = count;
        this.next = next;
    }

    /** Sets ring slot {@code slot} (see {@link #reset}): the click's ids and the first {@code hidden} floats of {@code state}. */
    public void put(int slot, long itemId, long categoryId, float[] state) {
        if (slot < 0 || slot >= capacity || state.length < hidden) {
            throw new IllegalArgumentException("slot " + slot + " of " + capacity + " with " + state.length
                    + " state floats, hidden size " + hidden);
        }
        items[slot] = itemId;
        categories[slot] = categoryId;
        System.arraycopy(state, 0, states, slot * stride, hidden);
    }

    /**
     * Appends a click whose extractor state a store computed itself (with
     * {@link DienScorer#advance}), as {@link #append} would have: a cached copy of a stored window
     * then follows the store without a cell step of its own.
     *
     * @param state the extractor state after this click (the first {@code hidden} floats are used)
     */
    public void appendComputed(long itemId, long categoryId, float[] state) {
        int slot = next;
        put(slot, itemId, categoryId, state);
        next = Ring.after(next, capacity);
        count = Ring.grown(count, capacity);
        totalClicks++;
    }

    /**
     * The largest absolute difference between the newest click's state and {@code state}; infinite
     * for an empty window or another length.
     */
    public float newestStateDifference(float[] state) {
        if (count == 0 || state.length != hidden) {
            return Float.POSITIVE_INFINITY;
        }
        int off = slot(count - 1) * stride;
        float max = 0f;
        for (int i = 0; i < hidden; i++) {
            float d = Math.abs(states[off + i] - state[i]);
            if (!(d <= max)) { // NaN counts as the largest difference
                max = Float.isNaN(d) ? Float.POSITIVE_INFINITY : d;
            }
        }
        return max;
    }

    /** Whether the newest click's state equals {@code state} float bit for float bit (false for an empty window). */
    public boolean newestStateEquals(float[] state) {
        if (count == 0 || state.length != hidden) {
            return false;
        }
        int off = slot(count - 1) * stride;
        for (int i = 0; i < hidden; i++) {
            if (Float.floatToRawIntBits(states[off + i]) != Float.floatToRawIntBits(state[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "InterestState[window " + count + "/" + capacity + ", total " + totalClicks + ", model "
                + Long.toHexString(modelFingerprint) + "]";
    }
}

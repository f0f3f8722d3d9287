package io.dienflink.model;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One user's DIEN interest state: the raw ids of the user's last T clicks, the interest-extractor
 * state after each of them, the number of clicks ever appended, and the fingerprint of the model
 * that computed the states.
 *
 * <p>{@link #append} advances the extractor by exactly one cell step (no replay) and allocates
 * nothing; {@link #score} runs attention, the AUGRU and the head for a request's candidates.
 * Both take the caller's {@link DienScorer}, which holds the model and the scratch buffers. States
 * are kept in a ring buffer, so dropping the oldest click is free.
 *
 * <p>{@link #encode()} gives a compact versioned binary form (the Flink job's state value):
 * {@code 29 + k·(16 + 4H)} bytes for k stored clicks. Not thread-safe.
 */
public final class InterestState {
    /** The first byte of every encoding; bump it when the layout changes and keep decoding old ones. */
    public static final byte ENCODING_VERSION = 1;
    private static final int HEADER_BYTES = 1 + 8 + 4 + 4 + 8 + 4;

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

    /** Whether the states were computed by this model (same fingerprint). */
    public boolean isBuiltBy(DienModel model) {
        return modelFingerprint == model.fingerprint64();
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
     * A state from its parts, as a store that keeps clicks as separate entries holds them.
     *
     * @param modelFingerprint the fingerprint of the model that computed {@code states}
     * @param capacity the building model's {@code maxHistory}
     * @param totalClicks clicks appended over the state's life
     * @param items item ids of the window, oldest first (the window length is {@code items.length})
     * @param categories category ids, oldest first
     * @param states the extractor state after each click, oldest first, {@code hidden} floats each
     */
    public static InterestState restore(long modelFingerprint, int capacity, int hidden, long totalClicks,
                                        long[] items, long[] categories, float[] states) {
        int count = items.length;
        if (count > capacity || categories.length != count || states.length != count * hidden || totalClicks < count) {
            throw new IllegalArgumentException("inconsistent parts: " + count + " items, " + categories.length
                    + " categories, " + states.length + " state floats, capacity " + capacity + ", total " + totalClicks);
        }
        InterestState s = new InterestState(modelFingerprint, capacity, hidden);
        System.arraycopy(items, 0, s.items, 0, count);
        System.arraycopy(categories, 0, s.categories, 0, count);
        for (int t = 0; t < count; t++) {
            System.arraycopy(states, t * hidden, s.states, t * s.stride, hidden);
        }
        s.count = count;
        s.next = Ring.nextAfterLayout(count, capacity);
        s.totalClicks = totalClicks;
        return s;
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

    /** Size of {@link #encode()}'s result. */
    public int encodedSize() {
        return HEADER_BYTES + count * (16 + 4 * hidden);
    }

    /** The versioned binary form; see {@link #decode}. */
    public byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(encodedSize());
        encodeTo(buf);
        return buf.array();
    }

    /**
     * Writes the versioned binary form at the buffer's position: version byte, model fingerprint,
     * capacity, hidden size, total clicks, window length, then item ids, category ids and states,
     * each oldest first, all little-endian.
     */
    public void encodeTo(ByteBuffer buf) {
        ByteBuffer b = buf.order(ByteOrder.LITTLE_ENDIAN);
        b.put(ENCODING_VERSION).putLong(modelFingerprint).putInt(capacity).putInt(hidden).putLong(totalClicks).putInt(count);
        int oldest = oldestSlot();
        int firstRun = Math.min(count, capacity - oldest);
        b.asLongBuffer().put(items, oldest, firstRun).put(items, 0, count - firstRun);
        b.position(b.position() + 8 * count);
        b.asLongBuffer().put(categories, oldest, firstRun).put(categories, 0, count - firstRun);
        b.position(b.position() + 8 * count);
        java.nio.FloatBuffer f = b.asFloatBuffer();
        for (int t = 0; t < count; t++) {
            int s = oldest + t;
            f.put(states, (s >= capacity ? s - capacity : s) * stride, hidden);
        }
        b.position(b.position() + 4 * hidden * count);
    }

    /** Reads {@link #encode()}'s form. */
    public static InterestState decode(byte[] bytes) {
        return decode(ByteBuffer.wrap(bytes));
    }

    /**
     * Reads {@link #encodeTo}'s form from the buffer's position.
     *
     * @throws IllegalArgumentException for an unknown version byte or a truncated or inconsistent encoding
     */
    public static InterestState decode(ByteBuffer buf) {
        ByteBuffer b = buf.order(ByteOrder.LITTLE_ENDIAN);
        try {
            byte version = b.get();
            if (version != ENCODING_VERSION) {
                throw new IllegalArgumentException("unknown InterestState encoding version " + version
                        + " (this build reads version " + ENCODING_VERSION + ")");
            }
            long fingerprint = b.getLong();
            int capacity = b.getInt();
            int hidden = b.getInt();
            long total = b.getLong();
            int count = b.getInt();
            if (capacity <= 0 || hidden <= 0 || count < 0 || count > capacity || total < count) {
                throw new IllegalArgumentException("inconsistent InterestState encoding: capacity " + capacity
                        + ", hidden " + hidden + ", window " + count + ", total " + total);
            }
            InterestState s = new InterestState(fingerprint, capacity, hidden);
            s.totalClicks = total;
            s.count = count;
            s.next = count == capacity ? 0 : count;
            b.asLongBuffer().get(s.items, 0, count);
            b.position(b.position() + 8 * count);
            b.asLongBuffer().get(s.categories, 0, count);
            b.position(b.position() + 8 * count);
            java.nio.FloatBuffer f = b.asFloatBuffer();
            for (int t = 0; t < count; t++) {
                f.get(s.states, t * s.stride, hidden);
            }
            b.position(b.position() + 4 * hidden * count);
            return s;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated InterestState encoding", e);
        }
    }

    @Override
    public String toString() {
        return "InterestState[window " + count + "/" + capacity + ", total " + totalClicks + ", model "
                + Long.toHexString(modelFingerprint) + "]";
    }
}

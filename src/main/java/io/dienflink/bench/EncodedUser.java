package io.dienflink.bench;

import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A user's whole interest state as one byte array: the one-value-per-user state layout, which the
 * job does not use (it keeps a header and an entry per click, docs/benchmarks.md), kept so that the
 * benchmarks measure what that layout costs. Version byte, model fingerprint, capacity, hidden size,
 * total clicks, window length, then item ids, category ids and states, each oldest first, all
 * little-endian: {@code 29 + k·(16 + 4H)} bytes for k stored clicks. Built on the state's public
 * accessors, encoding copies each state row once more than the model-internal encoding it replaces
 * did, with which the figures in docs/benchmarks.md were measured.
 */
final class EncodedUser {
    private static final byte VERSION = 1;
    private static final int HEADER_BYTES = 1 + 8 + 4 + 4 + 8 + 4;

    private EncodedUser() {}

    /** Size of {@link #encode}'s result for a window of {@code count} clicks. */
    static int size(int count, int hidden) {
        return HEADER_BYTES + count * (16 + 4 * hidden);
    }

    /** @param hidden the hidden size of the model that built the state (the state does not say when it is empty) */
    static byte[] encode(InterestState s, int hidden) {
        ByteBuffer buf = ByteBuffer.allocate(size(s.windowLength(), hidden));
        encodeTo(s, hidden, buf);
        return buf.array();
    }

    /** Writes {@link #encode}'s form at the buffer's position, and leaves the buffer little-endian. */
    static void encodeTo(InterestState s, int hidden, ByteBuffer buf) {
        ByteBuffer b = buf.order(ByteOrder.LITTLE_ENDIAN);
        int count = s.windowLength();
        b.put(VERSION).putLong(s.modelFingerprint()).putInt(s.capacity()).putInt(hidden).putLong(s.totalClicks())
                .putInt(count);
        for (int t = 0; t < count; t++) {
            b.putLong(s.itemAt(t));
        }
        for (int t = 0; t < count; t++) {
            b.putLong(s.categoryAt(t));
        }
        FloatBuffer f = b.asFloatBuffer();
        for (int t = 0; t < count; t++) {
            f.put(s.stateAt(t));
        }
        b.position(b.position() + 4 * hidden * count);
    }

    /** Decodes into a new state of the scorer's model (which {@link InterestState#rebuild} may then replace). */
    static InterestState decode(byte[] bytes, DienScorer scorer) {
        return decode(ByteBuffer.wrap(bytes), scorer.newState());
    }

    /**
     * Reads {@link #encodeTo}'s form from the buffer's position into {@code into} (its arrays reused
     * where they fit), the window from slot 0; leaves the buffer little-endian.
     *
     * @throws IllegalArgumentException for an unknown version byte or a truncated or inconsistent encoding
     */
    static InterestState decode(ByteBuffer buf, InterestState into) {
        ByteBuffer b = buf.order(ByteOrder.LITTLE_ENDIAN);
        try {
            byte version = b.get();
            if (version != VERSION) {
                throw new IllegalArgumentException("unknown encoding version " + version);
            }
            long fingerprint = b.getLong();
            int capacity = b.getInt();
            int hidden = b.getInt();
            long total = b.getLong();
            int count = b.getInt();
            if (count < 0 || hidden < 1 || b.remaining() < (long) count * (16 + 4L * hidden)) {
                throw new IllegalArgumentException("truncated encoding: " + count + " clicks of hidden size " + hidden
                        + " in " + b.remaining() + " bytes");
            }
            into.reset(fingerprint, capacity, hidden, total, count, count == capacity ? 0 : count);
            int items = b.position();
            int categories = items + 8 * count;
            int states = categories + 8 * count;
            b.position(states);
            FloatBuffer f = b.asFloatBuffer();
            float[] row = new float[hidden];
            for (int t = 0; t < count; t++) {
                f.get(row);
                into.put(t, b.getLong(items + 8 * t), b.getLong(categories + 8 * t), row);
            }
            b.position(states + 4 * hidden * count);
            return into;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated encoding", e);
        }
    }
}

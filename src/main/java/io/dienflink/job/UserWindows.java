package io.dienflink.job;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Ring;
import java.util.Map;

/**
 * Conversions between the operator's stored form of a user (a {@link UserHeader} and its
 * {@link ClickEntry} ring) and the model core's {@link InterestState}; shared by the scoring operator
 * and the savepoint migration, so both load and rebuild users the same way.
 *
 * <p>The header's ring ({@code count}, {@code capacity}, {@code next}) is the same ring as an
 * {@link InterestState}'s, so entries go to their slots as they are.
 */
final class UserWindows {
    private UserWindows() {}

    /** A user rebuilt under another model: its new header and states, the window laid out from slot 0. */
    record Rebuilt(UserHeader header, InterestState state) {
        /** The entry for ring slot t: the t-th oldest click. */
        ClickEntry entry(int t) {
            return new ClickEntry(state.itemAt(t), state.categoryAt(t), state.stateAt(t));
        }

        /** The entries by ring slot, {@code capacity} long. */
        ClickEntry[] entries() {
            ClickEntry[] out = new ClickEntry[header.capacity];
            for (int t = 0; t < header.count; t++) {
                out[t] = entry(t);
            }
            return out;
        }
    }

    /**
     * Loads the user into {@code into} (reusing its arrays) and returns it.
     *
     * @throws CorruptUserException if the header is inconsistent or an entry lies outside its window
     */
    static InterestState load(UserHeader h, Iterable<Map.Entry<Integer, ClickEntry>> entries, InterestState into) {
        checkHeader(h);
        into.reset(h.modelFingerprint, h.capacity, h.lastState.length, h.totalClicks, h.count, h.next);
        int filled = 0;
        for (Map.Entry<Integer, ClickEntry> e : entries) {
            ClickEntry c = e.getValue();
            if (c.state.length != h.lastState.length) {
                throw new CorruptUserException("window entry with a state of " + c.state.length + " floats in " + h);
            }
            into.put(checkedSlot(h, e.getKey()), c.itemId, c.categoryId, c.state);
            filled++;
        }
        checkFilled(h, filled);
        return into;
    }

    /**
     * The entries by ring slot, as stored ({@code capacity} long).
     *
     * @throws CorruptUserException if the header is inconsistent or an entry lies outside its window
     */
    static ClickEntry[] slots(UserHeader h, Iterable<Map.Entry<Integer, ClickEntry>> entries) {
        checkHeader(h);
        ClickEntry[] out = new ClickEntry[h.capacity];
        int filled = 0;
        for (Map.Entry<Integer, ClickEntry> e : entries) {
            out[checkedSlot(h, e.getKey())] = e.getValue();
            filled++;
        }
        checkFilled(h, filled);
        return out;
    }

    /** The header's own invariants: a ring within its capacity, a positive click count to match. */
    static void checkHeader(UserHeader h) {
        if (!Ring.consistent(h.capacity, h.count, h.next) || h.totalClicks < h.count || h.lastState.length == 0 || h.recentNext < 0
                || (h.recentEventIds.length > 0 && h.recentNext >= h.recentEventIds.length)) {
            throw new CorruptUserException("inconsistent header " + h + " (next " + h.next + ", state of "
                    + h.lastState.length + " floats, recent ids " + h.recentNext + "/" + h.recentEventIds.length + ")");
        }
    }

    /**
     * The checks a stored header must pass before anything is read for it, in the job and in
     * {@code migrate} alike: its own invariants ({@link #checkHeader}), and, when {@code model} built
     * it, a state of the model's hidden size.
     *
     * @throws CorruptUserException if it fails one
     */
    static void checkStored(UserHeader h, DienModel model) {
        checkHeader(h);
        if (h.modelFingerprint == model.fingerprint64() && h.lastState.length != model.config().hiddenDim()) {
            throw new CorruptUserException("state of " + h.lastState.length + " floats under a model of hidden size "
                    + model.config().hiddenDim() + ": " + h);
        }
    }

    private static int checkedSlot(UserHeader h, int slot) {
        // a ring that is not full fills slots 0 … count − 1
        if (slot < 0 || slot >= h.count) {
            throw new CorruptUserException("window entry at slot " + slot + " outside the stored window " + h);
        }
        return slot;
    }

    private static void checkFilled(UserHeader h, int filled) {
        if (filled != h.count) {
            throw new CorruptUserException(filled + " window entries stored for " + h);
        }
    }

    /**
     * Rebuilds the user under the scorer's model from the stored raw clicks (windowed semantics).
     * The new header keeps the de-duplication and expiry data of the old one.
     */
    static Rebuilt rebuild(DienScorer scorer, UserHeader old, Iterable<Map.Entry<Integer, ClickEntry>> entries) {
        InterestState state = load(old, entries, scorer.newState());
        state.rebuild(scorer);
        return new Rebuilt(headerOf(old, state, scorer.model().config().hiddenDim()), state);
    }

    /** The header of a freshly rebuilt (or freshly built) user; {@code old} supplies de-duplication and expiry data. */
    static UserHeader headerOf(UserHeader old, InterestState built, int hidden) {
        UserHeader h = new UserHeader();
        h.modelFingerprint = built.modelFingerprint();
        h.capacity = built.capacity();
        h.totalClicks = built.totalClicks();
        h.count = built.windowLength();
        h.next = Ring.nextAfterLayout(h.count, h.capacity);
        h.lastState = h.count == 0 ? new float[hidden] : built.stateAt(h.count - 1);
        h.lastActive = old.lastActive;
        h.expiryTimer = old.expiryTimer;
        h.recentEventIds = old.recentEventIds;
        h.recentNext = old.recentNext;
        return h;
    }
}

package io.dienflink.job;

import io.dienflink.model.DienModel;
import io.dienflink.model.Ring;
import java.util.Map;

/**
 * Reading and checking users of the state layout before issue 18 (a {@link UserHeader} and its
 * {@link ClickEntry} ring), for their conversion by {@link UserStore}, in the job and in
 * {@code migrate} alike.
 */
final class UserWindows {
    private UserWindows() {}

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
}

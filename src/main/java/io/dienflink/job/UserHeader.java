package io.dienflink.job;

import io.dienflink.model.Ring;
import java.util.Arrays;

/**
 * The per-user header of the state layout before issue 18 (with one {@link ClickEntry} per click):
 * the newest extractor state, the ring position, the recent event ids for de-duplication and the
 * expiry bookkeeping. The job no longer writes it; it reads it to convert users restored from a
 * savepoint of an earlier release ({@link UserStore#fromLegacy}), so its fields and serializer stay
 * as they were.
 */
public final class UserHeader {
    /** 64-bit fingerprint of the model that computed the stored states. */
    public long modelFingerprint;
    /** The building model's maxHistory: the ring's size. */
    public int capacity;
    public long totalClicks;
    /** Clicks in the window (≤ capacity). */
    public int count;
    /** Ring slot of the next click (the oldest click's slot once full). */
    public int next;
    /** Start of the activity bucket of the last click or request (processing time, ms). */
    public long lastActive;
    /** Timestamp of the registered expiry timer, 0 when none. */
    public long expiryTimer;
    /** The newest extractor state (H floats; zeros before the first click). */
    public float[] lastState;
    /** Hashes of the last event ids, a ring. */
    public long[] recentEventIds;
    public int recentNext;

    public UserHeader() {
        lastState = new float[0];
        recentEventIds = new long[0];
    }

    static UserHeader fresh(long fingerprint, int capacity, int hidden, int dedupWindow) {
        UserHeader h = new UserHeader();
        h.modelFingerprint = fingerprint;
        h.capacity = capacity;
        h.lastState = new float[hidden];
        h.recentEventIds = new long[dedupWindow];
        return h;
    }

    void remember(long eventHash) {
        recentEventIds[recentNext] = eventHash;
        recentNext = Ring.after(recentNext, recentEventIds.length);
    }

    UserHeader copy() {
        UserHeader h = new UserHeader();
        h.modelFingerprint = modelFingerprint;
        h.capacity = capacity;
        h.totalClicks = totalClicks;
        h.count = count;
        h.next = next;
        h.lastActive = lastActive;
        h.expiryTimer = expiryTimer;
        h.lastState = lastState.clone();
        h.recentEventIds = recentEventIds.clone();
        h.recentNext = recentNext;
        return h;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UserHeader h && h.modelFingerprint == modelFingerprint && h.capacity == capacity
                && h.totalClicks == totalClicks && h.count == count && h.next == next && h.lastActive == lastActive
                && h.expiryTimer == expiryTimer && Arrays.equals(h.lastState, lastState)
                && Arrays.equals(h.recentEventIds, recentEventIds) && h.recentNext == recentNext;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(modelFingerprint) * 31 + Long.hashCode(totalClicks);
    }

    @Override
    public String toString() {
        return "UserHeader[window " + count + "/" + capacity + ", total " + totalClicks + ", model "
                + Long.toHexString(modelFingerprint) + ", active " + lastActive + "]";
    }
}

package io.dienflink.job;

import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import java.util.Map;

/**
 * Conversions between the operator's stored form of a user (a {@link UserHeader} and its
 * {@link ClickEntry} ring) and the model core's {@link InterestState}; shared by the scoring operator
 * and the savepoint migration, so both rebuild users the same way.
 */
final class UserWindows {
    private UserWindows() {}

    /** The user's window as an {@link InterestState}, oldest click first. */
    static InterestState toInterestState(UserHeader h, Iterable<Map.Entry<Integer, ClickEntry>> entries) {
        int hidden = h.lastState.length;
        long[] items = new long[h.count];
        long[] categories = new long[h.count];
        float[] states = new float[h.count * hidden];
        // slot s holds the t-th oldest click, t = (s − oldest) mod capacity
        int oldest = h.count < h.capacity ? 0 : h.next;
        for (Map.Entry<Integer, ClickEntry> e : entries) {
            int t = Math.floorMod(e.getKey() - oldest, h.capacity);
            if (t >= h.count) {
                continue;
            }
            ClickEntry c = e.getValue();
            items[t] = c.itemId;
            categories[t] = c.categoryId;
            System.arraycopy(c.state, 0, states, t * hidden, hidden);
        }
        return InterestState.restore(h.modelFingerprint, h.capacity, hidden, h.totalClicks, items, categories, states);
    }

    /**
     * Rebuilds the user under the scorer's model from the stored raw clicks (windowed semantics).
     * The returned header keeps the de-duplication and expiry data; the window is laid out from slot
     * 0, so entry t of {@link #entry} goes to slot t.
     */
    static InterestState rebuild(DienScorer scorer, UserHeader old, Iterable<Map.Entry<Integer, ClickEntry>> entries) {
        InterestState state = toInterestState(old, entries);
        state.rebuild(scorer);
        return state;
    }

    /** The header of a freshly rebuilt user. */
    static UserHeader headerOf(UserHeader old, InterestState rebuilt, int hidden) {
        UserHeader h = old.copy();
        h.modelFingerprint = rebuilt.modelFingerprint();
        h.capacity = rebuilt.capacity();
        h.totalClicks = rebuilt.totalClicks();
        h.count = rebuilt.windowLength();
        h.next = h.count == h.capacity ? 0 : h.count;
        h.lastState = h.count == 0 ? new float[hidden] : rebuilt.stateAt(h.count - 1);
        return h;
    }

    /** The t-th click of a rebuilt user, for slot t. */
    static ClickEntry entry(InterestState rebuilt, int t) {
        return new ClickEntry(rebuilt.itemAt(t), rebuilt.categoryAt(t), rebuilt.stateAt(t));
    }
}

package io.dienflink.job;

/** A stored user's clicks in window order. */
final class StoredClicks {
    private StoredClicks() {}

    /** (item id, category id) pairs, oldest first. */
    static long[][] of(StoredUser u) {
        long[][] out = new long[u.windowLength()][];
        for (int t = 0; t < out.length; t++) {
            out[t] = new long[] {u.itemAt(t), u.categoryAt(t)};
        }
        return out;
    }

    /** The same for a user read from a savepoint. */
    static long[][] of(UserSnapshot u) {
        return of(u.user);
    }
}

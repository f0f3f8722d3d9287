package io.dienflink.job;

import java.util.Arrays;

/**
 * One user as the scoring operator keeps it in keyed state: one value per user holding what the
 * model needs and nothing it can recompute (issue 18, docs/capacity.md).
 *
 * <ul>
 *   <li>the raw ids of the window's clicks, oldest first ({@code count} of them, at most the building
 *       model's {@code capacity} = T);</li>
 *   <li>{@code first}: the extractor state after the window's oldest click. A request recomputes the
 *       window's other T − 1 states from it ({@link io.dienflink.model.DienScorer#replay}); when the
 *       oldest click leaves the window, {@code first} advances one cell step over the new oldest
 *       click. (The state <em>before</em> the oldest click would serve as well, but the layout before
 *       this one did not store it and a GRU step cannot be inverted: anchoring at the oldest click lets
 *       every user of that layout convert exactly.)</li>
 *   <li>{@code newest}: the extractor state after the newest click, advanced by one cell step per
 *       click, as the product promises; a replay that does not end on it bit for bit is a corrupt user.</li>
 *   <li>the de-duplication record: hashes (64-bit, so a collision is as unlikely as the event ids
 *       allow) of the user's recent click event ids, forgotten when the user's newest click is older
 *       than the de-duplication horizon ({@link DedupPolicy});</li>
 *   <li>model fingerprint, total clicks, and the expiry bookkeeping.</li>
 * </ul>
 *
 * Mutable, for the task thread that owns it; {@link StateSerializers.StoredUserSerializer} stores it.
 */
public final class StoredUser {
    /** 64-bit fingerprint of the model that computed {@code first} and {@code newest}. */
    long modelFingerprint;
    /** The building model's maxHistory: most clicks the window keeps. */
    int capacity;
    long totalClicks;
    /** Clicks in the window. */
    int count;
    /** Item and category ids of the window's clicks, oldest first; at least {@code count} long. */
    long[] items;
    long[] categories;
    /** The extractor state after the window's oldest click; empty when the window is. */
    float[] first;
    /** The extractor state after the newest click (zeros before the first click). */
    float[] newest;
    /** Start of the activity bucket of the last click or request (processing time, ms). */
    long lastActive;
    /** Timestamp of the registered expiry timer, 0 when none. */
    long expiryTimer;
    /** Processing time of the newest remembered click, for the de-duplication horizon. */
    long lastClickAt;
    /** Hashes of recent click event ids, oldest first; {@code recentCount} of them are meaningful. */
    long[] recent;
    int recentCount;
    /** Read from the earlier layout and not written in this one yet (never stored). */
    transient boolean legacy;

    StoredUser() {
        items = new long[0];
        categories = new long[0];
        first = new float[0];
        newest = new float[0];
        recent = new long[0];
    }

    /** A user with no clicks, for a model of window {@code capacity} and hidden size {@code hidden}. */
    static StoredUser fresh(long fingerprint, int capacity, int hidden) {
        StoredUser u = new StoredUser();
        u.modelFingerprint = fingerprint;
        u.capacity = capacity;
        u.items = new long[capacity];
        u.categories = new long[capacity];
        u.newest = new float[hidden];
        return u;
    }

    /** Total clicks over the user's life. */
    public long totalClicks() {
        return totalClicks;
    }

    /** Clicks in the window. */
    public int windowLength() {
        return count;
    }

    /** The fingerprint of the model the stored states belong to. */
    public long modelFingerprint() {
        return modelFingerprint;
    }

    /** Item id of the t-th click of the window, oldest first. */
    public long itemAt(int t) {
        return items[t];
    }

    /** Category id of the t-th click of the window, oldest first. */
    public long categoryAt(int t) {
        return categories[t];
    }

    /** A copy of the extractor state after the window's oldest click; empty without clicks. */
    public float[] first() {
        return first.clone();
    }

    /** A copy of the state after the newest click. */
    public float[] newest() {
        return newest.clone();
    }

    /** Start of the activity bucket of the user's last click or request (processing time, ms). */
    public long lastActive() {
        return lastActive;
    }

    /** Timestamp of the user's registered expiry timer, 0 when none. */
    public long expiryTimer() {
        return expiryTimer;
    }

    /** Remembered event-id hashes (tests and metrics). */
    public int rememberedEvents() {
        return recentCount;
    }

    /**
     * Appends a click's ids to the window; when the window is full the oldest click's ids leave and
     * this returns true: the caller then advances {@code first} over the new oldest click.
     */
    boolean appendIds(long itemId, long categoryId) {
        ensureIdCapacity(capacity);
        boolean dropped = count == capacity;
        if (dropped) {
            System.arraycopy(items, 1, items, 0, count - 1);
            System.arraycopy(categories, 1, categories, 0, count - 1);
            count--;
        }
        items[count] = itemId;
        categories[count] = categoryId;
        count++;
        totalClicks++;
        return dropped;
    }

    private void ensureIdCapacity(int n) {
        if (items.length < n) {
            items = Arrays.copyOf(items, n);
            categories = Arrays.copyOf(categories, n);
        }
    }

    /** Whether the event hash is among the remembered ones. */
    boolean remembers(long eventHash) {
        for (int i = 0; i < recentCount; i++) {
            if (recent[i] == eventHash) {
                return true;
            }
        }
        return false;
    }

    /**
     * Applies the de-duplication policy at {@code now}: forgets every remembered event when the newest
     * of them is older than the horizon, and keeps at most the newest {@code maxEvents} (the job may
     * have been restarted with a smaller window).
     */
    void boundEvents(DedupPolicy policy, long now) {
        if (legacy) {
            // The layout before kept no click time, only the activity bucket (up to an hour old, or a
            // savepoint's age): the converted user keeps its ids for a horizon from now, so that a
            // re-send arriving after an upgrade's restart is still caught.
            lastClickAt = Math.max(lastClickAt, now);
        }
        if (recentCount > 0 && now - lastClickAt > policy.horizonMs()) {
            recentCount = 0;
            recent = new long[0];
        }
        int max = policy.maxEvents();
        if (recentCount > max) {
            recent = Arrays.copyOfRange(recent, recentCount - max, recentCount);
            recentCount = max;
        }
    }

    /**
     * Remembers an event hash at {@code now}, keeping at most {@code max} (the newest). Call after
     * {@link #boundEvents} with the same bound, which trims a larger set left by an earlier setting.
     */
    void remember(long eventHash, long now, int max) {
        if (max <= 0) {
            return;
        }
        // boundEvents ran first (UserStore.click), so at most max are remembered here
        if (recentCount == max) {
            System.arraycopy(recent, 1, recent, 0, max - 1);
            recentCount--;
        }
        if (recent.length <= recentCount) {
            recent = Arrays.copyOf(recent, Math.min(max, Math.max(4, 2 * recent.length)));
        }
        recent[recentCount++] = eventHash;
        lastClickAt = now;
    }

    StoredUser copy() {
        StoredUser u = new StoredUser();
        u.modelFingerprint = modelFingerprint;
        u.capacity = capacity;
        u.totalClicks = totalClicks;
        u.count = count;
        u.items = Arrays.copyOf(items, Math.max(count, items.length));
        u.categories = Arrays.copyOf(categories, Math.max(count, categories.length));
        u.first = first.clone();
        u.newest = newest.clone();
        u.lastActive = lastActive;
        u.expiryTimer = expiryTimer;
        u.lastClickAt = lastClickAt;
        u.recent = Arrays.copyOf(recent, recentCount);
        u.recentCount = recentCount;
        return u;
    }

    /** Equal stored content: the meaningful part of each array, bit for bit. */
    @Override
    public boolean equals(Object o) {
        return o instanceof StoredUser u && u.modelFingerprint == modelFingerprint && u.capacity == capacity
                && u.totalClicks == totalClicks && u.count == count
                && Arrays.equals(u.items, 0, u.count, items, 0, count)
                && Arrays.equals(u.categories, 0, u.count, categories, 0, count)
                && Arrays.equals(u.first, first) && Arrays.equals(u.newest, newest) && u.lastActive == lastActive
                && u.expiryTimer == expiryTimer && u.lastClickAt == lastClickAt
                && Arrays.equals(u.recent, 0, u.recentCount, recent, 0, recentCount);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(modelFingerprint) * 31 + Long.hashCode(totalClicks);
    }

    @Override
    public String toString() {
        return "StoredUser[window " + count + "/" + capacity + ", total " + totalClicks + ", model "
                + Long.toHexString(modelFingerprint) + ", active " + lastActive + ", " + recentCount + " recent events]";
    }
}

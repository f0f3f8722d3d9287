package io.dienflink.job;

import io.dienflink.model.InterestState;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A bounded heap cache, per scorer subtask, of recently scored users' windows, so that a request
 * for a user scored a moment ago does not replay the user's T − 1 extractor steps again
 * (docs/benchmarks.md, "The job at the core's capacity").
 *
 * <p>It is only a cache, never a second copy of the truth: keyed state stays the only thing that
 * is checkpointed, restored and rescaled, and the cache starts empty with every operator instance.
 * A cached window is kept equal to state by the store's write paths (a click appends to the cached
 * copy the newest state it stores; a rebuild, a reset or an expiry removes it), and
 * {@link #get} additionally serves it only if it matches the user's stored value exactly (model,
 * click count and the newest extractor state), which the request reads anyway. An
 * entry that does not match is dropped and the window loaded from state.
 *
 * <p>Least recently used users are evicted beyond {@code maxUsers}; an evicted user's arrays are
 * reused for the next load. Not thread-safe (one per subtask, used by its task thread).
 */
public final class UserWindowCache {
    /** A cached window and the stored user it was valid for. */
    private static final class Entry {
        final InterestState state;
        long modelFingerprint;
        long totalClicks;
        int count;

        Entry(InterestState state) {
            this.state = state;
        }

        void at(StoredUser u) {
            modelFingerprint = u.modelFingerprint;
            totalClicks = u.totalClicks;
            count = u.count;
        }

        boolean matches(StoredUser u) {
            if (modelFingerprint != u.modelFingerprint || totalClicks != u.totalClicks || count != u.count
                    || state.windowLength() != u.count || state.totalClicks() != u.totalClicks) {
                return false;
            }
            // the newest click's state is stored with the user: a last check that the contents agree
            return count == 0 || state.newestStateEquals(u.newest);
        }
    }

    private final int maxUsers;
    private final LinkedHashMap<Long, Entry> entries;
    private long hits;
    private long misses;

    /** @param maxUsers users kept (positive) */
    public UserWindowCache(int maxUsers) {
        if (maxUsers <= 0) {
            throw new IllegalArgumentException("maxUsers must be positive: " + maxUsers);
        }
        this.maxUsers = maxUsers;
        this.entries = new LinkedHashMap<>(Math.min(maxUsers, 1 << 16), 0.75f, true);
    }

    /**
     * The user's cached window if it matches the stored user {@code u} exactly (a hit), else null (a
     * miss; a stale entry is dropped).
     */
    public InterestState get(long user, StoredUser u) {
        Entry e = entries.get(user);
        if (e != null && e.matches(u)) {
            hits++;
            return e.state;
        }
        if (e != null) {
            entries.remove(user);
        }
        misses++;
        return null;
    }

    /**
     * A state to load a user into before {@link #put}: the least recently used user's, evicted, when
     * the cache is full, else a new one from {@code fresh}.
     */
    public InterestState spare(Supplier<InterestState> fresh) {
        if (entries.size() >= maxUsers) {
            Iterator<Map.Entry<Long, Entry>> eldest = entries.entrySet().iterator();
            InterestState s = eldest.next().getValue().state;
            eldest.remove();
            return s;
        }
        return fresh.get();
    }

    /** Caches {@code loaded}, the user's window just loaded from the stored user {@code u}. */
    public void put(long user, StoredUser u, InterestState loaded) {
        Entry e = new Entry(loaded);
        e.at(u);
        entries.put(user, e);
        while (entries.size() > maxUsers) {
            Iterator<Map.Entry<Long, Entry>> eldest = entries.entrySet().iterator();
            eldest.next();
            eldest.remove();
        }
    }

    /**
     * A click with ids {@code (itemId, categoryId)} was stored, and the user is now {@code after}.
     * Appends it to the cached copy, if any, with the newest state the store computed, so the user
     * stays a hit.
     */
    public void clicked(long user, StoredUser after, long itemId, long categoryId) {
        Entry e = entries.get(user);
        if (e == null) {
            return;
        }
        if (e.modelFingerprint != after.modelFingerprint || e.totalClicks + 1 != after.totalClicks) {
            entries.remove(user); // not the position this click was applied to: load afresh next time
            return;
        }
        e.state.appendComputed(itemId, categoryId, after.newest);
        e.at(after);
    }

    /** The user's cached window as it is, without a check or a count (tests). */
    InterestState peek(long user) {
        Entry e = entries.get(user);
        return e == null ? null : e.state;
    }

    /** Forgets the user: its stored window was removed or rewritten. */
    public void invalidate(long user) {
        entries.remove(user);
    }

    public int size() {
        return entries.size();
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }

    /** Hits over lookups so far; 0 before the first. */
    public double hitRate() {
        long n = hits + misses;
        return n == 0 ? 0 : hits / (double) n;
    }
}

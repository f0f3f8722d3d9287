package io.dienflink.job;

import io.dienflink.model.InterestState;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A bounded heap cache, per scorer subtask, of recently scored users' loaded windows, so that a
 * request for a user scored a moment ago does not iterate the user's T window entries in RocksDB
 * again (docs/benchmarks.md, "The job at the core's capacity").
 *
 * <p>It is only a cache, never a second copy of the truth: keyed state stays the only thing that
 * is checkpointed, restored and rescaled, and the cache starts empty with every operator instance.
 * A cached window is kept equal to state by the operator's write paths (a click updates the cached
 * copy in place with the same entry it stores; a rebuild, a reset or an expiry removes it), and
 * {@link #get} additionally serves it only if it matches the user's stored header exactly (model,
 * ring position, click count and the newest extractor state), which the request reads anyway. An
 * entry that does not match is dropped and the window loaded from state.
 *
 * <p>Least recently used users are evicted beyond {@code maxUsers}; an evicted user's arrays are
 * reused for the next load. Not thread-safe (one per subtask, used by its task thread).
 */
public final class UserWindowCache {
    /** A cached window and the header position it was valid at. */
    private static final class Entry {
        final InterestState state;
        long modelFingerprint;
        long totalClicks;
        int count;
        int next;

        Entry(InterestState state) {
            this.state = state;
        }

        void at(UserHeader h) {
            modelFingerprint = h.modelFingerprint;
            totalClicks = h.totalClicks;
            count = h.count;
            next = h.next;
        }

        boolean matches(UserHeader h) {
            if (modelFingerprint != h.modelFingerprint || totalClicks != h.totalClicks || count != h.count
                    || next != h.next || state.capacity() != h.capacity || state.windowLength() != h.count) {
                return false;
            }
            // the newest click's state is in the header: a last check that the contents agree
            return count == 0 || Arrays.equals(state.stateAt(count - 1), h.lastState);
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
     * The user's cached window if it matches the stored header {@code h} exactly (a hit), else null (a
     * miss; a stale entry is dropped).
     */
    public InterestState get(long user, UserHeader h) {
        Entry e = entries.get(user);
        if (e != null && e.matches(h)) {
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

    /** Caches {@code loaded}, the user's window just loaded from state at header {@code h}. */
    public void put(long user, UserHeader h, InterestState loaded) {
        Entry e = new Entry(loaded);
        e.at(h);
        entries.put(user, e);
        while (entries.size() > maxUsers) {
            Iterator<Map.Entry<Long, Entry>> eldest = entries.entrySet().iterator();
            eldest.next();
            eldest.remove();
        }
    }

    /**
     * A click was stored: entry {@code (itemId, categoryId, state)} at ring slot {@code slot}, and the
     * header is now {@code after}. Updates the cached copy, if any, the same way, so the user stays a hit.
     */
    public void clicked(long user, UserHeader after, int slot, long itemId, long categoryId, float[] state) {
        Entry e = entries.get(user);
        if (e == null) {
            return;
        }
        if (e.modelFingerprint != after.modelFingerprint || e.totalClicks + 1 != after.totalClicks) {
            entries.remove(user); // not the position this click was applied to: load afresh next time
            return;
        }
        e.state.reset(after.modelFingerprint, after.capacity, after.lastState.length, after.totalClicks, after.count,
                after.next);
        e.state.put(slot, itemId, categoryId, state);
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

package io.dienflink.bootstrap;

import io.dienflink.job.DedupPolicy;
import io.dienflink.job.InterestScorer;
import io.dienflink.job.StoredUser;
import io.dienflink.job.UserStore;
import io.dienflink.model.DienModel;
import io.dienflink.traffic.SyntheticWorld;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds users of a population as the scoring operator would keep them: each user's history
 * ({@link Population#history}) applied click by click through {@link UserStore#click} on the heap,
 * then {@link UserStore#settle} (last active at the bootstrap's now, the job's expiry timer, no
 * remembered event ids). One per writer subtask: it holds a scorer and is confined to one thread.
 */
final class UserBuilder {
    /** Models by bundle path and fingerprint, shared by the subtasks of a JVM ({@link #shared}). */
    private static final ConcurrentHashMap<String, DienModel> MODELS = new ConcurrentHashMap<>();

    private final Population population;
    private final long now;
    private final long inactivityMs;
    private final SyntheticWorld world;
    private final Owned slot = new Owned();
    private final UserStore store;

    /**
     * @param fingerprint the bundle's fingerprint as validated at submission; another bundle at
     *     {@code modelPath} fails here instead of building users with a different model
     */
    UserBuilder(Population population, String modelPath, String fingerprint, long now, long inactivityMs) {
        this.population = population;
        this.now = now;
        this.inactivityMs = inactivityMs;
        this.world = population.world();
        // One event id remembered at most (the fewest the policy allows): settle() forgets it.
        this.store = new UserStore(shared(modelPath, fingerprint).newScorer(), slot, null,
                new DedupPolicy(1, InterestScorer.DEFAULT_DEDUP_HORIZON_MS), null, new UserStore.Events() {});
    }

    /** User index {@code u} after its history, ready to store. */
    StoredUser build(int u) throws Exception {
        long id = SyntheticWorld.id(u);
        slot.clear();
        SyntheticWorld.Click[] clicks = population.history(world, u);
        for (int i = 0; i < clicks.length; i++) {
            // distinct event hashes, so no click of the history is taken for a repeat of the one before
            if (store.click(id, i + 1, clicks[i].itemId(), clicks[i].categoryId(), now, UserStore.UNTRACKED)
                    != UserStore.ClickOutcome.APPLIED) {
                throw new IllegalStateException("click " + i + " of user " + id + " was not applied");
            }
        }
        StoredUser user = slot.get();
        UserStore.settle(user, now, inactivityMs);
        return user;
    }

    /**
     * Offers the model of the bundle at {@code path}, built by the caller, to the writers of this JVM:
     * on a local MiniCluster they then need not read the bundle again (78 MB at a million users'
     * vocabulary, a second of CPU).
     */
    static void offer(String path, DienModel model) {
        MODELS.putIfAbsent(path + "@" + model.fingerprint(), model);
    }

    /**
     * One model per bundle per JVM for all writer subtasks (read-only once built; each subtask has its
     * own scorer): at a million users' vocabulary a bundle is 78 MB to read, check and pack.
     */
    private static DienModel shared(String path, String fingerprint) {
        DienModel model = MODELS.computeIfAbsent(path + "@" + fingerprint, k -> DienModel.load(Path.of(path)));
        if (!model.fingerprint().equals(fingerprint)) {
            throw new IllegalStateException("the bundle at " + path + " is not the one validated at submission: "
                    + model.fingerprint() + ", expected " + fingerprint);
        }
        return model;
    }

    /**
     * The user being built, held by reference: unlike {@link UserStore.Held} it does not copy the user
     * on every read and write (two copies of the window per click). Nothing else holds the user while
     * the store applies its clicks, so the copies would guard against nothing.
     */
    private static final class Owned implements UserStore.Slot {
        private StoredUser user;

        @Override
        public StoredUser get() {
            return user;
        }

        @Override
        public void put(StoredUser u) {
            user = u;
        }

        @Override
        public void clear() {
            user = null;
        }
    }
}

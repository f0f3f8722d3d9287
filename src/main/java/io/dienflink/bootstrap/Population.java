package io.dienflink.bootstrap;

import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.verify.PriorClicks;
import java.io.Serializable;

/**
 * The users a bootstrap writes and their histories, enough to regenerate any user's clicks anywhere:
 * users {@code 0 … users − 1} of {@link SyntheticWorld#demo(int, long) SyntheticWorld.demo(users, seed)},
 * each with {@code clicksPerUser} clicks drawn by {@link SyntheticWorld#history}.
 *
 * @param users how many users (indices 0 … users − 1, ids {@link SyntheticWorld#id(int)})
 * @param seed the world's seed: the users' interests and their clicks
 * @param clicksPerUser clicks applied to each user
 */
public record Population(int users, long seed, int clicksPerUser) implements Serializable {
    public Population {
        if (users < 1 || clicksPerUser < 0) {
            throw new IllegalArgumentException("need at least one user and no negative click count: " + users + ", "
                    + clicksPerUser);
        }
    }

    /** A fresh world of these users, in which nobody has clicked yet. */
    public SyntheticWorld world() {
        return SyntheticWorld.demo(users, seed);
    }

    /**
     * The clicks the bootstrap applied to user index {@code u}, oldest first, given a {@link #world()}
     * of this population in which u has not clicked (the same in every process). To go on with the
     * world's traffic after them, {@link SyntheticWorld#skip skip} u's walk by {@code clicksPerUser}.
     */
    public SyntheticWorld.Click[] history(SyntheticWorld world, int u) {
        return world.history(u, clicksPerUser);
    }

    /**
     * These users' bootstrapped histories for the checker ({@link io.dienflink.verify.RunVerifier.Options#prior()}):
     * a run of the job started from this population's savepoint is checked as if every user's history
     * had come before the clicks topic. Ids outside the population have none.
     */
    public PriorClicks priorClicks() {
        SyntheticWorld world = world();
        return userId -> {
            int u = index(userId);
            if (u < 0) {
                return null;
            }
            SyntheticWorld.Click[] clicks = history(world, u);
            long[] items = new long[clicks.length];
            long[] categories = new long[clicks.length];
            for (int i = 0; i < clicks.length; i++) {
                items[i] = clicks[i].itemId();
                categories[i] = clicks[i].categoryId();
            }
            return new PriorClicks.History(items, categories);
        };
    }

    /**
     * The user index of a user id of this population, or -1 for an id that is not one of its users
     * (ids are {@code 1000·(index + 1)}).
     */
    public int index(long userId) {
        if (userId <= 0 || userId % 1000 != 0 || userId / 1000 > users) {
            return -1;
        }
        return (int) (userId / 1000 - 1);
    }
}

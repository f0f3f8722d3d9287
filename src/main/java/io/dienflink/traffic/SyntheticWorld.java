package io.dienflink.traffic;

import java.util.SplittableRandom;

/**
 * A synthetic population whose interests <em>evolve</em>, so that the order of a user's clicks
 * carries signal that a pooled (order-free) history cannot see. Used by the demo's traffic
 * generator and by the trainer's synthetic data.
 *
 * <p>Planted structure: categories sit on a ring. Each user walks the ring with a personal step
 * {@code δ ∈ {+1, −1, +2, −2, +3, −3}}, staying on a category for a personal dwell of 4–12 clicks
 * before moving to {@code current + δ}. A click lands on an item of the current category with
 * probability {@link #FOCUS}, else on a random item. The probability that a user clicks a
 * candidate is high for the current category, also high for the <em>next</em> one
 * ({@code current + δ}), and low otherwise. The set of recent categories is the same whether
 * the user walks up or down the ring; only their order tells which one comes next.
 *
 * <p>Ids follow the demo bundle's vocabulary: entity i has raw id {@code 1000·(i + 1)}.
 * Deterministic in the seed; not thread-safe (give each thread its own instance or user range).
 */
public final class SyntheticWorld {
    /** Probability that a click follows the user's current interest. */
    public static final double FOCUS = 0.8;
    private static final int[] STEPS = {1, -1, 2, -2, 3, -3};
    /** {@link #FOCUS} as a threshold on a uniform 24-bit integer. */
    private static final long FOCUS_OF_2_24 = Math.round(FOCUS * (1 << 24));

    private final int users;
    private final int categories;
    private final int itemsPerCategory;
    private final int[] current;
    private final int[] step;
    private final int[] dwell;
    private final int[] dwelt;
    private final SplittableRandom rnd;
    private final long seed;

    /** One click: user, item and category raw ids. */
    public record Click(long userId, long itemId, long categoryId) {}

    /** A candidate item with the probability that the user clicks it now. */
    public record Candidate(long itemId, long categoryId, double clickProbability) {}

    public SyntheticWorld(int users, int categories, int itemsPerCategory, long seed) {
        this.users = users;
        this.categories = categories;
        this.itemsPerCategory = itemsPerCategory;
        this.current = new int[users];
        this.step = new int[users];
        this.dwell = new int[users];
        this.dwelt = new int[users];
        this.rnd = new SplittableRandom(seed);
        this.seed = seed;
        for (int u = 0; u < users; u++) {
            current[u] = rnd.nextInt(categories);
            step[u] = STEPS[rnd.nextInt(STEPS.length)];
            dwell[u] = 4 + rnd.nextInt(9);
            dwelt[u] = rnd.nextInt(dwell[u]);
        }
    }

    /** The demo-sized world: 10,000 users, 50 categories of 100 items (the demo bundle's vocabulary). */
    public static SyntheticWorld demo(long seed) {
        return demo(10_000, seed);
    }

    /**
     * The demo bundle's item vocabulary (50 categories of 100 items) with {@code users} users; past
     * the bundle's 10,000 they are unknown to its user vocabulary (row 0, counted by the job).
     */
    public static SyntheticWorld demo(int users, long seed) {
        return new SyntheticWorld(users, 50, 100, seed);
    }

    public int users() {
        return users;
    }

    public static long id(int index) {
        return 1000L * (index + 1);
    }

    /** A uniformly random user index. */
    public int randomUser() {
        return rnd.nextInt(users);
    }

    /**
     * A uniformly random user index among the first {@code among} users (all of them if
     * {@code among} is at least {@link #users()}); draws from the world's one random stream, as
     * {@link #randomUser()} does.
     *
     * @throws IllegalArgumentException if {@code among < 1}
     */
    public int randomUser(int among) {
        if (among < 1) {
            throw new IllegalArgumentException("among must be at least 1, was " + among);
        }
        return rnd.nextInt(Math.min(among, users));
    }

    /** User u clicks once; their interest advances along the ring after their dwell. */
    public Click click(int u) {
        int category = rnd.nextDouble() < FOCUS ? current[u] : rnd.nextInt(categories);
        int item = category * itemsPerCategory + rnd.nextInt(itemsPerCategory);
        if (++dwelt[u] >= dwell[u]) {
            dwelt[u] = 0;
            current[u] = Math.floorMod(current[u] + step[u], categories);
        }
        return new Click(id(u), id(item), id(category));
    }

    /**
     * The next {@code n} clicks of user u, drawn as {@link #click} draws them but from a random stream
     * of the user's own (derived from the world's seed and u) instead of the world's shared one, and
     * without changing the world: a pure function of (users' starting interests, seed, u's position on
     * its walk, n). Called on a world in which u has not clicked, with the same seed (and any number of
     * users above u: a user's starting interest does not depend on how many follow it), it gives the
     * same clicks in any process, thread or order: {@code bootstrap} builds users' histories with it
     * and a checker regenerates them. {@link #skip} then moves u's interest past them, so that
     * {@link #click} continues the walk.
     */
    public Click[] history(int u, int n) {
        SplittableRandom own = new SplittableRandom(mix64(seed ^ mix64(0x5DEECE66DL + u)));
        int cur = current[u];
        int dw = dwelt[u];
        Click[] out = new Click[n];
        for (int i = 0; i < n; i++) {
            // Two 64-bit draws a click, cut into the three choices by multiply-shift (bias below 2^-24):
            // SplittableRandom's bounded nextInt divides, which made a quarter of a bootstrapped user's
            // cost outside the model's cell steps.
            long r = own.nextLong();
            int category = (r >>> 40) < FOCUS_OF_2_24 ? cur : (int) (((r & 0xFFFFFFFFL) * categories) >>> 32);
            int item = category * itemsPerCategory + (int) (((own.nextLong() >>> 32) * itemsPerCategory) >>> 32);
            if (++dw >= dwell[u]) {
                dw = 0;
                cur = Math.floorMod(cur + step[u], categories);
            }
            out[i] = new Click(id(u), id(item), id(category));
        }
        return out;
    }

    /**
     * Moves user u's interest on as {@code n} clicks would (the walk does not depend on which items
     * were clicked), drawing nothing: after {@code history(u, n)}, the world then continues where that
     * history ended.
     */
    public void skip(int u, long n) {
        long moved = dwelt[u] + n;
        dwelt[u] = (int) (moved % dwell[u]);
        current[u] = (int) Math.floorMod(current[u] + (moved / dwell[u]) % categories * step[u], (long) categories);
    }

    /** Stafford's mix13 (SplittableRandom's own finaliser): nearby inputs give unrelated streams. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * A random candidate for user u and the probability that u clicks it now: 0.6 for the current
     * category, 0.45 for the next one, 0.05 otherwise. One candidate in three is drawn from those two.
     */
    public Candidate candidate(int u) {
        int draw = rnd.nextInt(6);
        int category = draw == 0 ? current[u] : draw == 1 ? next(u) : rnd.nextInt(categories);
        int item = category * itemsPerCategory + rnd.nextInt(itemsPerCategory);
        return new Candidate(id(item), id(category), clickProbability(u, category));
    }

    /** The probability that user u clicks an item of {@code category} now. */
    private double clickProbability(int u, int category) {
        return category == current[u] ? 0.6 : category == next(u) ? 0.45 : 0.05;
    }

    /** Draws a click (1) or not (0) with the candidate's probability. */
    public int label(Candidate c) {
        return rnd.nextDouble() < c.clickProbability() ? 1 : 0;
    }

    private int next(int u) {
        return Math.floorMod(current[u] + step[u], categories);
    }
}

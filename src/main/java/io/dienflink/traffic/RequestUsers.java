package io.dienflink.traffic;

import java.util.Locale;

/**
 * Which users a {@link TrafficGenerator}'s requests go to. Clicks always go to a uniformly random
 * user of the whole world.
 *
 * <ul>
 *   <li>{@code uniform} (what the generator has always done): a uniformly random user among all
 *       N. At millions of users almost every request reads a user nobody touched for a long time,
 *       so RocksDB serves it from disk rather than from its block cache: the worst case for state
 *       reads at a given state size.</li>
 *   <li>{@code hot:K}: a uniformly random user among the first K ({@code K ≤ N}). The state still
 *       holds N users (the clicks spread over all of them) but requests touch a working set that
 *       fits in the caches: the contrast that tells how much of a uniform run's cost is the misses.</li>
 * </ul>
 *
 * @param hot the size of the requests' working set; {@link Integer#MAX_VALUE} for {@code uniform}
 */
public record RequestUsers(int hot) {
    /** Every user equally likely. */
    public static final RequestUsers UNIFORM = new RequestUsers(Integer.MAX_VALUE);

    public RequestUsers {
        if (hot < 1) {
            throw new IllegalArgumentException("the hot set needs at least one user, was " + hot);
        }
    }

    /**
     * Parses {@code uniform} or {@code hot:K} (case-insensitive).
     *
     * @throws IllegalArgumentException for anything else, naming the accepted forms
     */
    public static RequestUsers parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("uniform")) {
            return UNIFORM;
        }
        if (s.startsWith("hot:")) {
            try {
                int k = Integer.parseInt(s.substring(4).replace("_", ""));
                if (k >= 1) {
                    return new RequestUsers(k);
                }
            } catch (NumberFormatException e) {
                // the message below says what is accepted
            }
        }
        throw new IllegalArgumentException("'" + spec + "': expected uniform or hot:K with K a positive number of users");
    }

    /** The user index of the next request, drawn from {@code world}'s random stream. */
    public int pick(SyntheticWorld world) {
        // uniform keeps the generator's original draw, so runs of a seed repeat what they always sent
        return hot == Integer.MAX_VALUE ? world.randomUser() : world.randomUser(hot);
    }

    /** {@code uniform} or {@code hot:K}, as {@link #parse} reads it. */
    @Override
    public String toString() {
        return hot == Integer.MAX_VALUE ? "uniform" : "hot:" + hot;
    }
}

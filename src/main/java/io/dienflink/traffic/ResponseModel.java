package io.dienflink.traffic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The synthetic users' answer to the ads they are offered, so that the demo has labels: a user
 * clicks each candidate of a request with the candidate's true probability
 * ({@link SyntheticWorld.Candidate#clickProbability()}, the planted interests), after a delay drawn
 * uniformly from [{@code minDelay}, {@code maxDelay}]. Deterministic in the seed and the sequence of
 * requests; a stream of its own, so turning it on leaves the world's clicks and requests as they were.
 */
public final class ResponseModel {
    /** A click the user will make: at {@code time} (the request's time plus the delay), on the candidate. */
    public record Response(long time, long userId, long itemId, long categoryId) {}

    private final long minDelayMs;
    private final long maxDelayMs;
    private final SplittableRandom rnd;

    /**
     * @throws IllegalArgumentException if a delay is negative or min exceeds max
     */
    public ResponseModel(Duration minDelay, Duration maxDelay, long seed) {
        if (minDelay.isNegative() || maxDelay.compareTo(minDelay) < 0) {
            throw new IllegalArgumentException("response delays must satisfy 0 <= min <= max, got " + minDelay + " and " + maxDelay);
        }
        this.minDelayMs = minDelay.toMillis();
        this.maxDelayMs = maxDelay.toMillis();
        this.rnd = new SplittableRandom(seed ^ 0x7E59_0A5EL);
    }

    /** The clicks user {@code userId} makes on a request at {@code requestTime} with these candidates (maybe none). */
    public List<Response> respond(long requestTime, long userId, List<SyntheticWorld.Candidate> candidates) {
        List<Response> out = new ArrayList<>(2);
        for (SyntheticWorld.Candidate c : candidates) {
            // two draws per candidate whether clicked or not: the stream stays aligned with the requests
            boolean clicked = rnd.nextDouble() < c.clickProbability();
            long delay = minDelayMs + (maxDelayMs == minDelayMs ? 0 : (long) (rnd.nextDouble() * (maxDelayMs - minDelayMs)));
            if (clicked) {
                out.add(new Response(requestTime + delay, userId, c.itemId(), c.categoryId()));
            }
        }
        return out;
    }
}

package io.dienflink.traffic;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The first score, read back from the scores topic, of a request sent at or after a given moment
 * (and, if asked, computed by a given model): how long a job that was just (re)submitted took to
 * serve fresh requests again. A request's send time is its {@code request_time}, which the
 * producers of this package set from this machine's clock, as they set {@code sentFromMs}.
 *
 * <p>Requests sent before the moment do not count: after a restore they are the backlog of the
 * downtime, not what an ad server waiting now would get. Offers may come from any thread; the
 * earliest arrival among the scores that count is kept, whatever order they are offered in.
 */
public final class FirstScore {
    private final long sentFromMs;
    private final String fingerprint;
    private final AtomicLong arrivedAtMs = new AtomicLong(-1);

    /**
     * @param sentFromMs the moment (epoch ms) from which a request's score counts
     * @param fingerprint the model fingerprint a counted score must carry ({@code CtrScore.model_fingerprint}); null for any
     */
    public FirstScore(long sentFromMs, String fingerprint) {
        this.sentFromMs = sentFromMs;
        this.fingerprint = fingerprint;
    }

    /** The moment this counts from (epoch ms). */
    public long sentFromMs() {
        return sentFromMs;
    }

    /**
     * One score read: its request's {@code request_time}, its model fingerprint and when it was read.
     *
     * @return whether it counts (sent at or after the moment, by the expected model)
     */
    public boolean offer(long requestTimeMs, String modelFingerprint, long arrivedAtMs) {
        if (requestTimeMs < sentFromMs || (fingerprint != null && !fingerprint.equals(modelFingerprint))) {
            return false;
        }
        this.arrivedAtMs.accumulateAndGet(arrivedAtMs, (seen, now) -> seen < 0 ? now : Math.min(seen, now));
        return true;
    }

    /** When the first counted score was read (epoch ms); empty while none was. */
    public OptionalLong arrivedAtMs() {
        long a = arrivedAtMs.get();
        return a < 0 ? OptionalLong.empty() : OptionalLong.of(a);
    }

    /**
     * Milliseconds from the moment to the first counted score's arrival; empty while none was read.
     * Never negative: a request sent at the moment cannot be scored before it, so a score read
     * "earlier" only shows clocks read a millisecond apart.
     */
    public OptionalLong millis() {
        long a = arrivedAtMs.get();
        return a < 0 ? OptionalLong.empty() : OptionalLong.of(Math.max(0, a - sentFromMs));
    }

    /** Waits until a counted score was read; false if {@code timeout} passed first. */
    public boolean await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (arrivedAtMs.get() < 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}

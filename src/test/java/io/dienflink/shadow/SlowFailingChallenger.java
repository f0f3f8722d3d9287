package io.dienflink.shadow;

import io.dienflink.avro.CtrScore;

/** A bundle B that takes {@code delayMs} per request and throws on every {@code failEvery}-th one (0: never). */
final class SlowFailingChallenger extends ShadowScorer {
    private final long delayMs;
    private final int failEvery;
    private transient java.util.concurrent.atomic.AtomicInteger seen;

    SlowFailingChallenger(String bundle, int threads, int queue, long delayMs, int failEvery) {
        super(bundle, null, threads, queue);
        this.delayMs = delayMs;
        this.failEvery = failEvery;
    }

    @Override
    protected CtrScore score(ShadowRequest request) {
        synchronized (this) {
            if (seen == null) {
                seen = new java.util.concurrent.atomic.AtomicInteger();
            }
        }
        if (failEvery > 0 && seen.incrementAndGet() % failEvery == 0) {
            throw new IllegalStateException("challenger broken on purpose");
        }
        try {
            Thread.sleep(delayMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return super.score(request);
    }
}

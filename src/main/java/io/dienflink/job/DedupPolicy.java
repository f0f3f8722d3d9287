package io.dienflink.job;

import java.io.Serializable;

/**
 * How many and how long a user's click event ids are remembered to apply a re-sent click once.
 * Duplicates come from producer retries and re-sends, which arrive seconds after the original: the
 * ids are kept while the user's newest click is younger than {@code horizonMs} (processing time) and
 * at most the newest {@code maxEvents} of them, so an idle user stores none and a user who clicks
 * in bursts stores a burst's worth (8 bytes each).
 *
 * @param maxEvents the most event ids kept per user (positive)
 * @param horizonMs how long after the user's newest click they are kept (positive)
 */
public record DedupPolicy(int maxEvents, long horizonMs) implements Serializable {
    public DedupPolicy {
        if (maxEvents < 1 || horizonMs < 1) {
            throw new IllegalArgumentException("maxEvents and horizonMs must be positive: " + maxEvents + ", " + horizonMs);
        }
    }
}

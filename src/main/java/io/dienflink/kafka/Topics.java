package io.dienflink.kafka;

import java.util.List;

/**
 * The four topics of the job. Clicks and requests must be partitioned by user id (the producers'
 * key), so that each user's events stay in order; scores are keyed by user id too.
 */
public record Topics(String clicks, String requests, String scores, String deadLetters) {
    public static final Topics DEFAULT = new Topics("clicks", "ad-requests", "ctr-scores", "dead-letters");

    /**
     * A run's own four topics, {@code <prefix>-clicks}, {@code -requests}, {@code -scores} and
     * {@code -dead-letters}: a checker that reads them from the start sees that run only.
     */
    public static Topics prefixed(String prefix) {
        return new Topics(prefix + "-clicks", prefix + "-requests", prefix + "-scores", prefix + "-dead-letters");
    }

    public List<String> all() {
        return List.of(clicks, requests, scores, deadLetters);
    }
}

package io.dienflink.verify;

/**
 * The clicks a user's state held before the run's clicks topic: a history written into the savepoint
 * the job started from ({@code bootstrap}), which the topics cannot show. The checker puts them before
 * the user's clicks from the topic, as distinct clicks applied in that order, and no click of the topic
 * can repeat one of them (a bootstrapped user remembers no event ids).
 */
@FunctionalInterface
public interface PriorClicks {
    /** No user had clicks before the topic: a run whose job started with empty state. */
    PriorClicks NONE = user -> null;

    /**
     * The user's clicks applied before the clicks topic's, oldest first, or null when it had none.
     * Called from one thread at a time.
     */
    History of(long userId);

    /** Item and category ids of clicks, oldest first, as parallel arrays. */
    record History(long[] items, long[] categories) {
        public History {
            if (items.length != categories.length) {
                throw new IllegalArgumentException(items.length + " items but " + categories.length + " categories");
            }
        }
    }
}

package io.dienflink.verify;

import io.dienflink.job.Click;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every user's distinct clicks, built from the clicks topic in topic order (partition, then offset):
 * the job sees a user's clicks in that order because producers key them by user, so they share a
 * partition. A user's clicks from before the topic ({@link PriorClicks}) come first.
 */
final class ClickLog {
    private final int dedupWindow;
    private final PriorClicks prior;
    private final Map<Long, UserClicks> users = new LinkedHashMap<>();
    private long clicks;
    private long distinct;

    ClickLog(int dedupWindow) {
        this(dedupWindow, PriorClicks.NONE);
    }

    ClickLog(int dedupWindow, PriorClicks prior) {
        this.dedupWindow = dedupWindow;
        this.prior = prior;
    }

    /** Applies a valid click of the topic, in topic order. */
    void accept(Click click) {
        clicks++;
        if (users.computeIfAbsent(click.userId(), this::newUser).offer(click)) {
            distinct++;
        }
    }

    /**
     * Makes sure a user the run mentions (a request) is known with its prior clicks, if it has any: a
     * user bootstrapped into the job's state has clicks without any on the topic.
     */
    void mention(long userId) {
        if (!users.containsKey(userId)) {
            PriorClicks.History h = prior.of(userId);
            if (h != null && h.items().length > 0) {
                UserClicks u = new UserClicks(dedupWindow);
                u.applyPrior(h);
                users.put(userId, u);
            }
        }
    }

    private UserClicks newUser(long userId) {
        UserClicks u = new UserClicks(dedupWindow);
        PriorClicks.History h = prior.of(userId);
        if (h != null) {
            u.applyPrior(h);
        }
        return u;
    }

    /** The user's distinct clicks, or null for a user without valid clicks. */
    UserClicks user(long userId) {
        return users.get(userId);
    }

    /** Users with at least one valid click (prior clicks included). */
    Collection<Map.Entry<Long, UserClicks>> users() {
        return users.entrySet();
    }

    /** The user's distinct clicks, 0 for a user without clicks. */
    int distinct(long userId) {
        UserClicks u = users.get(userId);
        return u == null ? 0 : u.count();
    }

    long clicks() {
        return clicks;
    }

    long distinct() {
        return distinct;
    }
}

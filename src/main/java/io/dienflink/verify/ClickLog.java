package io.dienflink.verify;

import io.dienflink.job.Click;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every user's distinct clicks, built from the clicks topic in topic order (partition, then offset):
 * the job sees a user's clicks in that order because producers key them by user, so they share a
 * partition.
 */
final class ClickLog {
    private final int dedupWindow;
    private final Map<Long, UserClicks> users = new LinkedHashMap<>();
    private long clicks;
    private long distinct;

    ClickLog(int dedupWindow) {
        this.dedupWindow = dedupWindow;
    }

    /** Applies a valid click of the topic, in topic order. */
    void accept(Click click) {
        clicks++;
        if (users.computeIfAbsent(click.userId(), u -> new UserClicks(dedupWindow)).offer(click)) {
            distinct++;
        }
    }

    /** The user's distinct clicks, or null for a user without valid clicks. */
    UserClicks user(long userId) {
        return users.get(userId);
    }

    /** Users with at least one valid click. */
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

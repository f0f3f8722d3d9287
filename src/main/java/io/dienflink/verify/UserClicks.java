package io.dienflink.verify;

import io.dienflink.job.Click;
import java.util.Arrays;

/**
 * One user's distinct clicks in topic order, de-duplicated exactly as the job's scoring operator
 * does it ({@code InterestScorer.processElement1}, {@code UserHeader.seen/remember}): a click is
 * dropped when the FNV-1a hash of its event id equals one of the hashes of the user's last
 * {@code dedupWindow} applied clicks. Only applied clicks enter that ring, and the ring starts as
 * zeros, as the job's header does.
 */
final class UserClicks {
    private final long[] recent;
    private int recentNext;
    private long[] items = new long[8];
    private long[] categories = new long[8];
    private int count;
    private long duplicates;

    UserClicks(int dedupWindow) {
        this.recent = new long[dedupWindow];
    }

    /** Applies {@code click} unless it repeats a recent event id; true when applied. */
    boolean offer(Click click) {
        long hash = click.eventHash();
        // The job checks the ring only once the user has a header, i.e. from the second click on.
        if (count > 0 && seen(hash)) {
            duplicates++;
            return false;
        }
        recent[recentNext] = hash;
        recentNext = recentNext + 1 == recent.length ? 0 : recentNext + 1;
        if (count == items.length) {
            items = Arrays.copyOf(items, 2 * count);
            categories = Arrays.copyOf(categories, 2 * count);
        }
        items[count] = click.itemId();
        categories[count] = click.categoryId();
        count++;
        return true;
    }

    /**
     * Applies a user's clicks from before the topic (oldest first; the user has none from the topic
     * yet): distinct clicks whose event ids the job does not remember, so they enter no ring.
     */
    void applyPrior(PriorClicks.History h) {
        int n = h.items().length;
        if (count + n > items.length) {
            items = Arrays.copyOf(items, Math.max(2 * items.length, count + n));
            categories = Arrays.copyOf(categories, items.length);
        }
        System.arraycopy(h.items(), 0, items, count, n);
        System.arraycopy(h.categories(), 0, categories, count, n);
        count += n;
    }

    private boolean seen(long hash) {
        for (long id : recent) {
            if (id == hash) {
                return true;
            }
        }
        return false;
    }

    /** Distinct (applied) clicks so far. */
    int count() {
        return count;
    }

    /** Clicks dropped as repeats. */
    long duplicates() {
        return duplicates;
    }

    /** Item id of the i-th distinct click, oldest first. */
    long item(int i) {
        return items[i];
    }

    /** Category id of the i-th distinct click, oldest first. */
    long category(int i) {
        return categories[i];
    }
}

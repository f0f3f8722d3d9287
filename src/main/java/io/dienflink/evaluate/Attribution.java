package io.dienflink.evaluate;

/**
 * The labelling rule, the one code path that decides every label (a champion's, a challenger's
 * and the labelled serving log's): candidate item {@code i} of a request at time {@code r} is
 * <ul>
 *   <li>1 when the same user clicked {@code i} at a time {@code t} with {@code r ≤ t ≤ r + window};</li>
 *   <li>−1 (not labelled) when impressions are read and {@code i} is not among the items shown for
 *       the request (no impression at all: nothing was shown);</li>
 *   <li>0 otherwise.</li>
 * </ul>
 * A click before the request or after the window does not count.
 */
public final class Attribution {
    /** Label of a candidate that was not shown. */
    public static final int NOT_SHOWN = -1;

    private Attribution() {}

    /**
     * @param items the candidates' items, in candidate order
     * @param requestTime the request's event time
     * @param windowMs the attribution window
     * @param clickTimes, clickItems the user's clicks (same length, any order)
     * @param shown the items shown for the request; null when impressions are not read
     * @return one label per candidate
     */
    public static int[] labels(long[] items, long requestTime, long windowMs, long[] clickTimes, long[] clickItems,
                               long[] shown) {
        int[] y = new int[items.length];
        for (int i = 0; i < items.length; i++) {
            if (shown != null && !contains(shown, items[i])) {
                y[i] = NOT_SHOWN;
                continue;
            }
            for (int c = 0; c < clickTimes.length; c++) {
                if (clickItems[c] == items[i] && clickTimes[c] >= requestTime && clickTimes[c] - requestTime <= windowMs) {
                    y[i] = 1;
                    break;
                }
            }
        }
        return y;
    }

    private static boolean contains(long[] a, long v) {
        for (long x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }
}

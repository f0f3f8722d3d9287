package io.dienflink.evaluate;

/**
 * One model's score of one candidate with its final label, on its way from the labelling operator
 * to the minute aggregation (a Flink POJO); or, when {@link #dropped} is positive, the count of a
 * request's scored candidates that were never labelled because the user's pending set was full.
 */
public final class Labelled {
    public String fingerprint;
    public String modelVersion;
    public boolean challenger;
    /** Start of the minute of the request's event time. */
    public long minute;
    public String requestId;
    public long itemId;
    public float score;
    /** 1 clicked within the attribution window, 0 not. */
    public int label;
    /** For a challenger's score: the champion's score of the same request and item, NaN if it has none. */
    public float championScore = Float.NaN;
    /** Positive: a drop marker for this many candidates; no label. */
    public int dropped;

    public Labelled() {}

    /** The minute aggregation's key: model, role and minute. */
    public String aggregationKey() {
        return key(fingerprint, challenger, minute);
    }

    static String key(String fingerprint, boolean challenger, long minute) {
        return fingerprint + (challenger ? "|challenger|" : "|champion|") + minute;
    }

    /** The role's name in ModelEval and in the metrics. */
    public String role() {
        return challenger ? "challenger" : "champion";
    }

    /** Start of the minute of {@code timeMs}. */
    public static long minuteOf(long timeMs) {
        return Math.floorDiv(timeMs, 60_000L) * 60_000L;
    }
}

package io.dienflink.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * One figure measured in several repeats: its median and range. The median of an even number of
 * values is the mean of the middle two.
 */
public record Spread(double median, double min, double max, int repeats) {

    /** The spread of {@code values} (at least one). */
    public static Spread of(double... values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        return new Spread(median, v[0], v[n - 1], n);
    }

    /** {@code median (min–max)} with the given number of decimals. */
    public String format(int decimals) {
        String f = "%." + decimals + "f";
        return String.format(Locale.ROOT, f + " (" + f + "–" + f + ")", median, min, max);
    }
}

package io.dienflink.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The demo's per-second latency rows, kept for a CSV (and a plot) and for the time it took to
 * recover after an outage.
 */
final class Timeline {
    /** Consecutive seconds under the threshold that count as recovered. */
    static final int RECOVERED_SECONDS = 5;
    static final String HEADER = "second,requests,scores,p50_ms,p99_ms,max_ms,checkpoint,phase";

    record Row(long second, long requests, long scores, long p50, long p99, long max, boolean checkpoint, String phase) { }

    private final long thresholdMs;
    private final List<Row> rows = new ArrayList<>();
    private double resumedAt = -1;

    Timeline(long thresholdMs) {
        this.thresholdMs = thresholdMs;
    }

    void add(long second, long requests, long scores, Histogram h, boolean checkpoint, String phase, double resumedAt) {
        rows.add(new Row(second, requests, scores, h.getValueAtPercentile(50), h.getValueAtPercentile(99),
                h.getMaxValue(), checkpoint, phase));
        if (resumedAt >= 0) {
            this.resumedAt = resumedAt;
        }
    }

    List<Row> rows() {
        return rows;
    }

    /**
     * Seconds from the job's resubmission to the start of the first {@value #RECOVERED_SECONDS}
     * consecutive seconds that all had scores with p99 at most the threshold; -1 when that never
     * happened (or there was no resubmission).
     */
    double recoveredAfterSeconds() {
        if (resumedAt < 0) {
            return -1;
        }
        for (int i = 0; i + RECOVERED_SECONDS <= rows.size(); i++) {
            // a row covers the second that ends at row.second(): only those after the resubmission count
            if (rows.get(i).second() <= resumedAt) {
                continue;
            }
            boolean good = true;
            for (int j = i; j < i + RECOVERED_SECONDS && good; j++) {
                good = rows.get(j).scores() > 0 && rows.get(j).p99() <= thresholdMs;
            }
            if (good) {
                return Math.max(0, rows.get(i).second() - 1 - resumedAt);
            }
        }
        return -1;
    }

    void write(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add(HEADER);
        for (Row r : rows) {
            lines.add(csv(r));
        }
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        Files.write(file, lines);
    }

    /**
     * The per-second figures of the rows after the warm-up ({@code phase} "run") that have scores:
     * how many such seconds and scores, the medians of the per-second p50 and p99, the worst
     * per-second p99, the maximum, and the seconds whose p99 exceeds {@code goalMs}. -1 where there
     * is no row.
     */
    record Stats(long seconds, long scores, long p50Median, long p99Median, long p99Worst, long max, long secondsOverGoal) {}

    Stats stats(long goalMs) {
        List<Row> run = rows.stream().filter(r -> r.phase().equals("run") && r.scores() > 0).toList();
        List<Long> p50 = run.stream().map(Row::p50).sorted().toList();
        List<Long> p99 = run.stream().map(Row::p99).sorted().toList();
        return new Stats(run.size(), run.stream().mapToLong(Row::scores).sum(), median(p50), median(p99),
                p99.isEmpty() ? -1 : p99.get(p99.size() - 1), run.stream().mapToLong(Row::max).max().orElse(-1),
                run.stream().filter(r -> r.p99() > goalMs).count());
    }

    /** The lower middle of a sorted list (the median for an odd count); -1 if empty. */
    static long median(List<Long> sorted) {
        return sorted.isEmpty() ? -1 : sorted.get((sorted.size() - 1) / 2);
    }

    /** One row as a line of the CSV ({@link #HEADER}'s columns). */
    static String csv(Row r) {
        return String.format(Locale.ROOT, "%d,%d,%d,%d,%d,%d,%d,%s", r.second(), r.requests(), r.scores(), r.p50(),
                r.p99(), r.max(), r.checkpoint() ? 1 : 0, r.phase());
    }

    static List<Row> read(Path file) throws IOException {
        List<Row> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw new IOException(file + ": not a demo timeline (its first line must be `" + HEADER + "`)");
        }
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            if (f.length != 8) {
                throw new IOException(file + " line " + (i + 1) + ": expected 8 fields, found " + f.length);
            }
            out.add(new Row(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                    Long.parseLong(f[4]), Long.parseLong(f[5]), f[6].equals("1"), f[7]));
        }
        return out;
    }
}

package io.dienflink.verify;

import java.util.ArrayList;
import java.util.List;

/** The problems found, one human-readable line each; only the first {@value #MAX_LINES} are kept. */
final class Violations {
    static final int MAX_LINES = 20;

    private final List<String> lines = new ArrayList<>();
    private long total;

    void add(String line) {
        total++;
        if (lines.size() < MAX_LINES) {
            lines.add(line);
        }
    }

    /** Appends another collection's lines after these (its total counts in full). */
    void addAll(Violations other) {
        for (String line : other.lines) {
            if (lines.size() < MAX_LINES) {
                lines.add(line);
            }
        }
        total += other.total;
    }

    long total() {
        return total;
    }

    /** The kept lines, and one saying how many more there were. */
    List<String> lines() {
        List<String> out = new ArrayList<>(lines);
        if (total > lines.size()) {
            out.add("… and " + (total - lines.size()) + " more");
        }
        return List.copyOf(out);
    }
}

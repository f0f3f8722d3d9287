package io.dienflink.offline;

import io.dienflink.avro.Candidate;
import io.dienflink.avro.HistoryClick;
import io.dienflink.avro.ServingLog;
import java.io.IOException;
import java.io.Writer;
import java.time.Instant;
import java.util.List;

/**
 * Turns labelled serving-log records into training examples in the official DIEN format
 * ({@code train/OfficialFormat}: {@code label \t uid \t mid \t cat \t mid_history \t cat_history},
 * histories {@code \x02}-separated, oldest first), one line per labelled candidate: the history is
 * the user's window exactly as the serving job read it from state, so a model retrained on the file
 * learns from the histories that were served.
 *
 * <p>Nothing is dropped silently; each reason has its counter: candidates labelled -1 (not shown),
 * records without labels (the unlabelled serving log, or a writer that left them out), records
 * whose labels, scores and candidates disagree in number, ids the format cannot carry (a raw id
 * that is negative or has more than 18 digits would be read back as a hash, see
 * {@code OfficialFormat.rawId}), records outside the time range or of another model, and a request
 * id seen before (a record written twice, e.g. by an at-least-once run: exported once).
 */
public final class SampleExport {
    /** Largest raw id that the official format reads back as itself (18 decimal digits). */
    static final long MAX_ID = 999_999_999_999_999_999L;

    private final Writer out;
    private final Writer scores;
    private final Instant from;
    private final Instant to;
    private final String fingerprint;
    private final SeenRequests seen = new SeenRequests();
    private final StringBuilder line = new StringBuilder(256);

    private long records;
    private long examples;
    private long positives;
    private long notLabelled;
    private long unlabelledRecords;
    private long malformed;
    private long badIds;
    private long outOfRange;
    private long otherModel;
    private long duplicates;

    /**
     * @param out the training file
     * @param scores null, or where each example's served score goes, one per line in the same order
     *     (for {@code evaluate --served-scores})
     * @param from null, or the first request time to export
     * @param to null, or the request time (exclusive) where the export ends
     * @param fingerprint null, or the only serving model whose records are exported
     */
    public SampleExport(Writer out, Writer scores, Instant from, Instant to, String fingerprint) {
        this.out = out;
        this.scores = scores;
        this.from = from;
        this.to = to;
        this.fingerprint = fingerprint;
    }

    /** Writes the record's labelled candidates. */
    public void accept(ServingLog r) throws IOException {
        records++;
        Instant t = r.getRequestTime();
        if ((from != null && t.isBefore(from)) || (to != null && !t.isBefore(to))) {
            outOfRange++;
            return;
        }
        if (fingerprint != null && !fingerprint.equals(r.getModelFingerprint())) {
            otherModel++;
            return;
        }
        List<Candidate> candidates = r.getCandidates();
        List<Integer> labels = r.getLabels();
        if (labels.isEmpty()) {
            unlabelledRecords++;
            return;
        }
        if (labels.size() != candidates.size() || r.getScores().size() != candidates.size()) {
            malformed++;
            return;
        }
        List<HistoryClick> history = r.getHistory();
        boolean idsOk = exportable(r.getUserId());
        for (HistoryClick h : history) {
            idsOk &= exportable(h.getItemId()) && exportable(h.getCategoryId());
        }
        for (Candidate c : candidates) {
            idsOk &= exportable(c.getItemId()) && exportable(c.getCategoryId());
        }
        if (!idsOk) {
            badIds++;
            return;
        }
        if (!seen.add(r.getRequestId())) {
            duplicates++;
            return;
        }
        StringBuilder items = new StringBuilder();
        StringBuilder categories = new StringBuilder();
        for (int i = 0; i < history.size(); i++) {
            if (i > 0) {
                items.append('\u0002');
                categories.append('\u0002');
            }
            items.append(history.get(i).getItemId());
            categories.append(history.get(i).getCategoryId());
        }
        for (int i = 0; i < candidates.size(); i++) {
            int label = labels.get(i);
            if (label != 0 && label != 1) {
                notLabelled++; // -1: not shown (impressions given), so neither clicked nor ignored
                continue;
            }
            Candidate c = candidates.get(i);
            line.setLength(0);
            line.append(label).append('\t').append(r.getUserId()).append('\t').append(c.getItemId()).append('\t')
                    .append(c.getCategoryId()).append('\t').append(items).append('\t').append(categories).append('\n');
            out.write(line.toString());
            if (scores != null) {
                // Float.toString round-trips: the served float32 is read back exactly
                scores.write(Float.toString(r.getScores().get(i)));
                scores.write('\n');
            }
            examples++;
            positives += label;
        }
    }

    private static boolean exportable(long id) {
        return id >= 0 && id <= MAX_ID;
    }

    /** The summary line's counters, in the order documented in docs/evaluation-report.md. */
    public String summary() {
        return "records=" + records + " requests=" + seen.size() + " examples=" + examples + " positives=" + positives
                + " skipped_not_labelled=" + notLabelled + " skipped_unlabelled_records=" + unlabelledRecords
                + " skipped_malformed=" + malformed + " skipped_ids=" + badIds + " skipped_out_of_range=" + outOfRange
                + " skipped_other_model=" + otherModel + " duplicates=" + duplicates;
    }

    public long examples() {
        return examples;
    }

    public long positives() {
        return positives;
    }

    public long duplicates() {
        return duplicates;
    }

    public long skippedNotLabelled() {
        return notLabelled;
    }

    public long skippedMalformed() {
        return malformed + badIds + unlabelledRecords;
    }
}

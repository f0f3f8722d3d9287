package io.dienflink.offline;

import io.dienflink.avro.ModelEval;
import io.dienflink.evaluate.BinaryMetrics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Champion against challenger over a time range of the evaluate job's per-minute {@link ModelEval}
 * records (docs/evaluation-report.md).
 *
 * <p>Per model (a fingerprint in a role), the minutes pool as follows: labelled, positives, Σ predicted
 * and Σ log loss add up, so the pooled log loss (Σ sum_log_loss / Σ labelled), calibration
 * (Σ sum_predicted / Σ positives) and normalized entropy are exactly what one computation over all
 * the range's labelled scores would give. AUC does not add up: the report gives the labelled-weighted
 * mean of the minutes' AUCs and the AUC of the pooled score histograms (100 bins, so scores within a
 * bin count as ties: a slight underestimate of the AUC of the raw scores).
 *
 * <p>The AUC difference (challenger − champion) over the range is the stratified estimate of the
 * minutes' paired DeLong estimates: minutes are disjoint sets of requests, taken as independent
 * strata, weighted by their paired count w_i: Δ = Σ w_i d_i / Σ w_i, Var Δ = Σ w_i² v_i / (Σ w_i)²,
 * 95 % interval Δ ± 1.96 √Var Δ. Minutes without an estimate (no paired candidate, fewer than two
 * positives or negatives, or no champion record that minute) are left out and counted.
 */
public final class EvalReport {
    /** The standard normal quantile of 0.975. */
    public static final double Z95 = 1.959963984540054;
    /** The role the evaluate job writes for the serving model's scores. */
    public static final String CHAMPION = "champion";
    /** The role for the shadow model's scores. */
    public static final String CHALLENGER = "challenger";

    /** One model's records over the range, pooled. */
    public record ModelSummary(String role, String fingerprint, String version, List<ModelEval> minutes, long labelled,
                               long positives, double sumPredicted, double sumLogLoss, double aucMean, long[] positiveHistogram,
                               long[] negativeHistogram, long droppedPending) {
        /** Σ sum_log_loss / Σ labelled; NaN without labels. */
        public double logLoss() {
            return labelled == 0 ? Double.NaN : sumLogLoss / labelled;
        }

        /** Σ predicted / Σ clicked. */
        public double calibration() {
            return BinaryMetrics.calibration(sumPredicted, positives);
        }

        /** Pooled log loss over the entropy of the pooled click rate. */
        public double normalizedEntropy() {
            return BinaryMetrics.normalizedEntropy(logLoss(), positives, labelled);
        }

        /** AUC of the pooled score histograms (scores within a bin tie). */
        public double aucHistogram() {
            return histogramAuc(positiveHistogram, negativeHistogram);
        }

        /** The pooled histogram of every labelled score (positives and negatives). */
        public long[] scoreHistogram() {
            long[] h = new long[BinaryMetrics.BINS];
            for (int i = 0; i < h.length; i++) {
                h[i] = positiveHistogram[i] + negativeHistogram[i];
            }
            return h;
        }
    }

    /** One minute's paired AUC difference, with the stratified estimate over the range up to and including it. */
    public record MinuteDifference(Instant minute, long paired, double difference, double variance,
                                   double cumulativeDifference, double cumulativeVariance) {
        /** The minute's own 95 % interval half-width. */
        public double halfWidth() {
            return Z95 * Math.sqrt(variance);
        }

        /** The cumulative estimate's 95 % interval half-width. */
        public double cumulativeHalfWidth() {
            return Z95 * Math.sqrt(cumulativeVariance);
        }
    }

    /** What the range says about the challenger. */
    public enum Verdict {
        BETTER("challenger better at 95 %"),
        WORSE("challenger worse at 95 %"),
        NO_SIGNIFICANT_DIFFERENCE("no significant difference at 95 %"),
        NO_ESTIMATE("no verdict: no minute with a paired AUC estimate");

        private final String text;

        Verdict(String text) {
            this.text = text;
        }

        /** The verdict line's text. */
        public String text() {
            return text;
        }
    }

    /** Champion against challenger over the range. */
    public record Comparison(ModelSummary champion, ModelSummary challenger, List<MinuteDifference> minutes,
                             int minutesWithoutEstimate, long paired, double difference, double variance, double psi,
                             double psiMaxMinute) {
        /** Lower end of the 95 % interval of the AUC difference. */
        public double low() {
            return difference - Z95 * Math.sqrt(variance);
        }

        /** Upper end of the 95 % interval. */
        public double high() {
            return difference + Z95 * Math.sqrt(variance);
        }

        /** Better when the interval lies above zero, worse when below. */
        public Verdict verdict() {
            if (minutes.isEmpty() || Double.isNaN(variance)) {
                return Verdict.NO_ESTIMATE;
            }
            return low() > 0 ? Verdict.BETTER : high() < 0 ? Verdict.WORSE : Verdict.NO_SIGNIFICANT_DIFFERENCE;
        }
    }

    private final Instant from;
    private final Instant to;
    private final long inRange;
    private final long outOfRange;
    private final long duplicates;
    private final List<ModelSummary> models;
    private final Comparison comparison;

    private EvalReport(Instant from, Instant to, long inRange, long outOfRange, long duplicates, List<ModelSummary> models,
                       Comparison comparison) {
        this.from = from;
        this.to = to;
        this.inRange = inRange;
        this.outOfRange = outOfRange;
        this.duplicates = duplicates;
        this.models = models;
        this.comparison = comparison;
    }

    /**
     * The report over the records whose minute is in [{@code from}, {@code to}).
     *
     * @param from null for no lower bound
     * @param to null for no upper bound
     * @param champion the champion's fingerprint, or null for the champion-role model with the most labelled scores
     * @param challenger the challenger's fingerprint, or null for the challenger-role model with the most labelled scores
     * @throws IllegalArgumentException if no record is in range, or a named fingerprint has no record in its role
     */
    public static EvalReport of(Collection<ModelEval> records, Instant from, Instant to, String champion, String challenger) {
        // (role, fingerprint, minute) → first record: a minute written twice (an at-least-once run, or a
        // replayed topic) must not count twice
        Map<String, Map<Instant, ModelEval>> byModel = new LinkedHashMap<>();
        long in = 0;
        long out = 0;
        long duplicates = 0;
        for (ModelEval r : records) {
            Instant m = r.getMinute();
            if ((from != null && m.isBefore(from)) || (to != null && !m.isBefore(to))) {
                out++;
                continue;
            }
            in++;
            Map<Instant, ModelEval> minutes = byModel.computeIfAbsent(r.getRole() + " " + r.getModelFingerprint(),
                    k -> new TreeMap<>());
            if (minutes.putIfAbsent(m, r) != null) {
                duplicates++;
            }
        }
        if (in == 0) {
            throw new IllegalArgumentException("no model-eval record with a minute in [" + (from == null ? "-inf" : from)
                    + ", " + (to == null ? "+inf" : to) + ")");
        }
        List<ModelSummary> models = new ArrayList<>();
        byModel.values().forEach(m -> models.add(summarize(new ArrayList<>(m.values()))));
        models.sort(Comparator.comparing((ModelSummary s) -> !s.role().equals(CHAMPION)).thenComparing(ModelSummary::role)
                .thenComparing(s -> -s.labelled()));
        ModelSummary a = pick(models, CHAMPION, champion);
        ModelSummary b = pick(models, CHALLENGER, challenger);
        Comparison c = a == null || b == null ? null : compare(a, b);
        return new EvalReport(from, to, in, out, duplicates, models, c);
    }

    /** Every model in range, champions first, each role by labelled count. */
    public List<ModelSummary> models() {
        return models;
    }

    /** Champion against challenger, or null when the range lacks either role. */
    public Comparison comparison() {
        return comparison;
    }

    /** Records in range, duplicates included. */
    public long recordsInRange() {
        return inRange;
    }

    /** Records read but outside the range. */
    public long recordsOutOfRange() {
        return outOfRange;
    }

    /** Records in range that repeat a (role, fingerprint, minute) already counted: left out. */
    public long duplicates() {
        return duplicates;
    }

    public Instant from() {
        return from;
    }

    public Instant to() {
        return to;
    }

    private static ModelSummary pick(List<ModelSummary> models, String role, String fingerprint) {
        for (ModelSummary s : models) {
            if (s.role().equals(role) && (fingerprint == null || s.fingerprint().equals(fingerprint))) {
                return s; // sorted by labelled count, most first
            }
        }
        if (fingerprint != null) {
            throw new IllegalArgumentException("no " + role + " record of fingerprint " + fingerprint + " in range; "
                    + "models in range: " + models.stream().map(s -> s.role() + " " + s.fingerprint()).toList());
        }
        return null;
    }

    static ModelSummary summarize(List<ModelEval> minutes) {
        ModelEval first = minutes.get(0);
        long labelled = 0;
        long positives = 0;
        double sumPredicted = 0;
        double sumLogLoss = 0;
        double aucWeighted = 0;
        long aucWeight = 0;
        long dropped = 0;
        long[] pos = new long[BinaryMetrics.BINS];
        long[] neg = new long[BinaryMetrics.BINS];
        for (ModelEval r : minutes) {
            labelled += r.getLabelled();
            positives += r.getPositives();
            sumPredicted += r.getSumPredicted();
            sumLogLoss += r.getSumLogLoss();
            dropped += r.getDroppedPending();
            if (Double.isFinite(r.getAuc())) {
                aucWeighted += r.getAuc() * r.getLabelled();
                aucWeight += r.getLabelled();
            }
            add(pos, r.getPositiveHistogram());
            add(neg, r.getNegativeHistogram());
        }
        return new ModelSummary(first.getRole(), first.getModelFingerprint(), first.getModelVersion(), List.copyOf(minutes),
                labelled, positives, sumPredicted, sumLogLoss, aucWeight == 0 ? Double.NaN : aucWeighted / aucWeight, pos, neg,
                dropped);
    }

    private static void add(long[] into, List<Long> histogram) {
        // an empty list is the schema's default (a writer without histograms); anything else must fit the bins
        if (histogram.isEmpty()) {
            return;
        }
        if (histogram.size() != into.length) {
            throw new IllegalArgumentException("a score histogram of " + histogram.size() + " bins, expected " + into.length);
        }
        for (int i = 0; i < into.length; i++) {
            into[i] += histogram.get(i);
        }
    }

    static Comparison compare(ModelSummary champion, ModelSummary challenger) {
        Map<Instant, ModelEval> championMinutes = new HashMap<>();
        champion.minutes().forEach(r -> championMinutes.put(r.getMinute(), r));
        List<MinuteDifference> minutes = new ArrayList<>();
        int without = 0;
        double w = 0;
        double wd = 0;
        double w2v = 0;
        long paired = 0;
        double psiMax = Double.NaN;
        for (ModelEval r : challenger.minutes()) {
            if (r.getPsi() != null && Double.isFinite(r.getPsi()) && !(r.getPsi() <= psiMax)) {
                psiMax = r.getPsi();
            }
            Double d = r.getAucDifference();
            Double v = r.getAucDifferenceVariance();
            // the difference was taken against the champion serving that minute: without its record the
            // minute may belong to another champion
            if (r.getPaired() <= 0 || d == null || v == null || !Double.isFinite(d) || !Double.isFinite(v)
                    || !championMinutes.containsKey(r.getMinute())) {
                without++;
                continue;
            }
            double wi = r.getPaired();
            w += wi;
            wd += wi * d;
            w2v += wi * wi * v;
            paired += r.getPaired();
            minutes.add(new MinuteDifference(r.getMinute(), r.getPaired(), d, v, wd / w, w2v / (w * w)));
        }
        double psi = BinaryMetrics.psi(champion.scoreHistogram(), challenger.scoreHistogram());
        return new Comparison(champion, challenger, List.copyOf(minutes), without, paired,
                w == 0 ? Double.NaN : wd / w, w == 0 ? Double.NaN : w2v / (w * w), psi, psiMax);
    }

    /**
     * The AUC of scores given only as histograms over the same bins: a positive beats every negative
     * of a lower bin and ties (half credit) with those of its own bin. NaN without both classes.
     */
    public static double histogramAuc(long[] positives, long[] negatives) {
        Objects.requireNonNull(positives);
        if (positives.length != negatives.length) {
            throw new IllegalArgumentException("histograms of " + positives.length + " and " + negatives.length + " bins");
        }
        double wins = 0;
        double negativesBelow = 0;
        long p = 0;
        long n = 0;
        for (int i = 0; i < positives.length; i++) {
            wins += positives[i] * (negativesBelow + negatives[i] / 2.0);
            negativesBelow += negatives[i];
            p += positives[i];
            n += negatives[i];
        }
        return p == 0 || n == 0 ? Double.NaN : wins / ((double) p * n);
    }
}

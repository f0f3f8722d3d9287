package io.dienflink.offline;

import io.dienflink.avro.ModelEval;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The lines {@code eval-report} prints (format: docs/evaluation-report.md), for the command and for
 * anything else that shows a report in-process (a demo run), so both print the same.
 */
public final class EvalReportText {
    private EvalReportText() {}

    /**
     * The header, one line per model, optionally one per model and minute, then the comparison and the
     * verdict (or the reason there is none).
     */
    public static List<String> lines(String topic, TopicSnapshot.Counts counts, EvalReport report, boolean perMinute) {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "eval-report topic=%s from=%s to=%s records=%d in_range=%d duplicates=%d undecodable=%d",
                topic, report.from() == null ? "-" : report.from(), report.to() == null ? "-" : report.to(), counts.records(),
                report.recordsInRange(), report.duplicates(), counts.undecodable()));
        for (EvalReport.ModelSummary s : report.models()) {
            out.add(String.format(Locale.ROOT, "model role=%s fingerprint=%s version=%s minutes=%d labelled=%d positives=%d "
                            + "log_loss=%.9f calibration=%.6f ne=%.9f auc_mean=%.9f auc_histogram=%.9f dropped_pending=%d", s.role(),
                    s.fingerprint(), s.version(), s.minutes().size(), s.labelled(), s.positives(), s.logLoss(), s.calibration(),
                    s.normalizedEntropy(), s.aucMean(), s.aucHistogram(), s.droppedPending()));
        }
        if (perMinute) {
            for (EvalReport.ModelSummary s : report.models()) {
                for (ModelEval m : s.minutes()) {
                    out.add(String.format(Locale.ROOT, "minute time=%s role=%s fingerprint=%s labelled=%d positives=%d auc=%.9f "
                                    + "log_loss=%.9f calibration=%.6f paired=%d auc_difference=%s auc_difference_variance=%s psi=%s",
                            m.getMinute(), s.role(), s.fingerprint(), m.getLabelled(), m.getPositives(), m.getAuc(),
                            m.getLogLoss(), m.getCalibration(), m.getPaired(), orDash(m.getAucDifference()),
                            orDash(m.getAucDifferenceVariance()), orDash(m.getPsi())));
                }
            }
        }
        EvalReport.Comparison c = report.comparison();
        if (c == null) {
            out.add("verdict none: the range has no " + (report.models().stream().anyMatch(
                    s -> s.role().equals(EvalReport.CHAMPION)) ? "challenger" : "champion") + " records");
            return out;
        }
        out.add(String.format(Locale.ROOT, "compare champion=%s challenger=%s minutes=%d minutes_without_estimate=%d paired=%d "
                        + "auc_difference=%.6f ci95_low=%.6f ci95_high=%.6f psi=%.4f psi_max_minute=%.4f",
                c.champion().fingerprint(), c.challenger().fingerprint(), c.minutes().size(), c.minutesWithoutEstimate(),
                c.paired(), c.difference(), c.low(), c.high(), c.psi(), c.psiMaxMinute()));
        out.add("verdict " + c.verdict().text());
        return out;
    }

    private static String orDash(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.9g", v);
    }
}

package io.dienflink.offline;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The rule a team applies before switching the serving model to the challenger (docs/upgrades.md,
 * "Before the switch"): enough evidence (minutes and labelled scores of the challenger), the AUC
 * difference's 95 % interval above {@code −aucMargin} (0: the challenger must be better; a small
 * margin: not worse by more than that, for routine retrains), the challenger's calibration within
 * bounds, its normalized entropy not above the champion's by more than {@code neTolerance}. A score
 * distribution shift (PSI) above {@code psiReview} does not fail the rule by itself but asks for a
 * reason (a new model that ranks better may well shift scores).
 */
public record UpgradeRule(int minMinutes, long minLabelled, double aucMargin, double calibrationLow, double calibrationHigh,
                          double neTolerance, double psiReview) {
    /** One condition's outcome. */
    public record Check(String name, Status status, String detail) {
        @Override
        public String toString() {
            return "check " + name + " " + status.name().toLowerCase(Locale.ROOT) + " " + detail;
        }
    }

    /** Pass and fail decide; review asks a person to explain before switching. */
    public enum Status { PASS, FAIL, REVIEW }

    /** Every condition, in the order docs/upgrades.md lists them. */
    public List<Check> apply(EvalReport.Comparison c) {
        List<Check> out = new ArrayList<>();
        EvalReport.ModelSummary a = c.champion();
        EvalReport.ModelSummary b = c.challenger();
        out.add(new Check("minutes", c.minutes().size() >= minMinutes ? Status.PASS : Status.FAIL,
                String.format(Locale.ROOT, "%d minutes with a paired estimate, need %d", c.minutes().size(), minMinutes)));
        out.add(new Check("labelled", b.labelled() >= minLabelled ? Status.PASS : Status.FAIL,
                String.format(Locale.ROOT, "challenger %d labelled, need %d", b.labelled(), minLabelled)));
        boolean aucOk = c.verdict() != EvalReport.Verdict.NO_ESTIMATE && c.low() > -aucMargin;
        out.add(new Check("auc", aucOk ? Status.PASS : Status.FAIL, String.format(Locale.ROOT,
                "difference %.5f, 95%% CI [%.5f, %.5f], need its low end > %.5f", c.difference(), c.low(), c.high(), -aucMargin)));
        double cal = b.calibration();
        out.add(new Check("calibration", cal >= calibrationLow && cal <= calibrationHigh ? Status.PASS : Status.FAIL,
                String.format(Locale.ROOT, "challenger %.4f, need [%.2f, %.2f]", cal, calibrationLow, calibrationHigh)));
        double neA = a.normalizedEntropy();
        double neB = b.normalizedEntropy();
        out.add(new Check("ne", neB <= neA + neTolerance ? Status.PASS : Status.FAIL, String.format(Locale.ROOT,
                "challenger %.5f, champion %.5f, need challenger <= champion + %.5f", neB, neA, neTolerance)));
        out.add(new Check("psi", Double.isNaN(c.psi()) || c.psi() <= psiReview ? Status.PASS : Status.REVIEW,
                String.format(Locale.ROOT, "%.4f (above %.2f: say why the scores moved before switching)", c.psi(), psiReview)));
        return out;
    }

    /** Whether no condition failed (a review does not fail). */
    public static boolean passes(List<Check> checks) {
        return checks.stream().noneMatch(k -> k.status() == Status.FAIL);
    }
}

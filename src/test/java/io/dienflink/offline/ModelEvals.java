package io.dienflink.offline;

import io.dienflink.avro.ModelEval;
import io.dienflink.evaluate.BinaryMetrics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Hand-made ModelEval records, as the evaluate job writes them, for the report's tests. */
public final class ModelEvals {
    /** 2026-12-07T15:00:00Z, the first minute of the tests' ranges. */
    public static final Instant T0 = Instant.parse("2026-12-07T15:00:00Z");

    private ModelEvals() {}

    /** The start of minute {@code i} after {@link #T0}. */
    public static Instant minute(int i) {
        return T0.plusSeconds(60L * i);
    }

    /** A champion minute with histograms of {@code labelled} scores: positives in bin 70, negatives in bin 20. */
    public static ModelEval champion(String fp, int minute, long labelled, long positives, double auc, double sumPredicted,
                                     double sumLogLoss) {
        return base(fp, "champion", minute, labelled, positives, auc, sumPredicted, sumLogLoss, 70, 20).build();
    }

    /** A challenger minute with its paired AUC difference and DeLong variance. */
    public static ModelEval challenger(String fp, int minute, long labelled, long positives, double auc, double sumPredicted,
                                       double sumLogLoss, long paired, Double difference, Double variance) {
        return base(fp, "challenger", minute, labelled, positives, auc, sumPredicted, sumLogLoss, 60, 30)
                .setPaired(paired).setAucDifference(difference).setAucDifferenceVariance(variance).setPsi(0.05).build();
    }

    private static ModelEval.Builder base(String fp, String role, int minute, long labelled, long positives, double auc,
                                          double sumPredicted, double sumLogLoss, int positiveBin, int negativeBin) {
        List<Long> pos = new ArrayList<>(Collections.nCopies(BinaryMetrics.BINS, 0L));
        List<Long> neg = new ArrayList<>(Collections.nCopies(BinaryMetrics.BINS, 0L));
        pos.set(positiveBin, positives);
        neg.set(negativeBin, labelled - positives);
        double logLoss = sumLogLoss / labelled;
        return ModelEval.newBuilder().setModelFingerprint(fp).setModelVersion(fp + "-version").setRole(role)
                .setMinute(minute(minute)).setLabelled(labelled).setPositives(positives).setAuc(auc).setLogLoss(logLoss)
                .setNormalizedEntropy(BinaryMetrics.normalizedEntropy(logLoss, positives, labelled))
                .setCalibration(sumPredicted / positives).setSumPredicted(sumPredicted).setSumLogLoss(sumLogLoss)
                .setPsi(null).setPaired(0).setAucDifference(null).setAucDifferenceVariance(null)
                .setPositiveHistogram(pos).setNegativeHistogram(neg).setDroppedPending(0);
    }
}

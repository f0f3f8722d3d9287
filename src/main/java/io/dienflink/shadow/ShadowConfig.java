package io.dienflink.shadow;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The shadow challenger's and the serving log's settings (keys {@code dien.shadow.*},
 * {@code dien.log.share} and the two topics; read and validated with the job's other settings).
 *
 * @param modelPath challenger bundle B, or null: no challenger
 * @param shadowShare share of requests B scores, in [0, 1]
 * @param queue bounded hand-off: requests waiting for a challenger thread per challenger subtask, at most
 * @param threads challenger threads per challenger subtask
 * @param parallelism challenger subtasks; -1: the job's parallelism
 * @param logShare share of requests written to the serving log, in [0, 1]
 * @param shadowScoresTopic where B's scores go
 * @param servingLogTopic where the serving log goes
 */
public record ShadowConfig(String modelPath, double shadowShare, int queue, int threads, int parallelism,
                           double logShare, String shadowScoresTopic, String servingLogTopic) implements Serializable {

    /** No challenger, no serving log. */
    public static ShadowConfig off() {
        return new ShadowConfig(null, 1.0, 1_000, 1, -1, 0, "ctr-scores-shadow", "serving-log");
    }

    /** Whether a challenger runs: a model is set and the share is positive. */
    public boolean shadowOn() {
        return modelPath != null && !modelPath.isBlank() && shadowShare > 0;
    }

    /** Whether the serving log is written. */
    public boolean logOn() {
        return logShare > 0;
    }

    /** The scorer's hand-off for these settings. */
    public ServingHandOff handOff() {
        return new ServingHandOff(shadowOn() ? shadowShare : 0, logShare);
    }

    /** The topics these settings write to, beside the job's four: those of the features that are on. */
    public List<String> topics() {
        List<String> t = new ArrayList<>(2);
        if (shadowOn()) {
            t.add(shadowScoresTopic);
        }
        if (logOn()) {
            t.add(servingLogTopic);
        }
        return t;
    }
}

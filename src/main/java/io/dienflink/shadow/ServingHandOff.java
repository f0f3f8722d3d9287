package io.dienflink.shadow;

import io.dienflink.avro.Candidate;
import io.dienflink.avro.HistoryClick;
import io.dienflink.avro.ServingLog;
import io.dienflink.model.DienModel;
import io.dienflink.model.InterestState;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.OutputTag;

/**
 * The scorer's hand-off to the shadow challenger and to the serving log: for a request in the
 * shadow sample it emits a {@link ShadowRequest} to {@link #SHADOW}, for one in the log sample a
 * {@link ServingLog} record to {@link #SERVING_LOG}, both built from the window the scorer has just
 * read from state and (for the log) the scores it has just sent. Both side outputs go to operators
 * outside the scorer's chain; the scorer does nothing else for them.
 *
 * <p>The two samples are independent deterministic shares of the request ids ({@link RequestSampler},
 * salts {@code "shadow"} and {@code "serving-log"}), so a request replayed after a failure is handed
 * off again exactly when it was before. Counted in the scorer's metric group: {@code shadowHandedOff},
 * {@code servingLogRecords}.
 */
public final class ServingHandOff implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Sampled requests with the user's window, to the challenger. */
    public static final OutputTag<ShadowRequest> SHADOW = new OutputTag<>("shadow-requests") {};
    /** What a sampled request was scored from, to the serving-log sink. */
    public static final OutputTag<ServingLog> SERVING_LOG = new OutputTag<>("serving-log") {};

    /** Hands nothing off. */
    public static final ServingHandOff NONE = new ServingHandOff(0, 0);

    /** Where the scorer's side outputs go: {@code ctx::output} of a process function's context. */
    public interface SideOutput {
        <X> void output(OutputTag<X> tag, X value);
    }

    private final RequestSampler shadow;
    private final RequestSampler log;
    private transient Counter shadowHandedOff;
    private transient Counter servingLogRecords;

    /**
     * @param shadowShare share of requests handed to the challenger, in [0, 1] (0 when no challenger runs)
     * @param logShare share of requests written to the serving log, in [0, 1]
     */
    public ServingHandOff(double shadowShare, double logShare) {
        this.shadow = new RequestSampler("shadow", shadowShare);
        this.log = new RequestSampler("serving-log", logShare);
    }

    /** Registers the counters in the scorer's metric group. */
    public void open(MetricGroup metrics) {
        shadowHandedOff = metrics.counter("shadowHandedOff");
        servingLogRecords = metrics.counter("servingLogRecords");
    }

    /** Whether any request can be handed off (else the scorer skips the hand-off entirely). */
    public boolean active() {
        return shadow.active() || log.active();
    }

    public RequestSampler shadowSampler() {
        return shadow;
    }

    public RequestSampler logSampler() {
        return log;
    }

    /**
     * Hands off one scored request if it is sampled.
     *
     * @param itemIds the candidates' item ids; the first {@code n} were scored
     * @param window the user's window as the scorer read it from state and scored it (never changed here)
     * @param model the serving model that computed {@code ctr}
     * @param ctr the scores just sent, one per candidate (the first {@code n})
     * @param scoredAt the scores' {@code scored_at} (epoch ms)
     */
    public void handOff(SideOutput out, String requestId, long userId, long eventTime, long[] itemIds, long[] categoryIds,
                        int n, InterestState window, DienModel model, float[] ctr, long scoredAt) {
        boolean toShadow = shadow.sampled(requestId);
        boolean toLog = log.sampled(requestId);
        if (!toShadow && !toLog) {
            return;
        }
        int k = window.windowLength();
        long[] historyItems = new long[k];
        long[] historyCategories = new long[k];
        for (int t = 0; t < k; t++) {
            historyItems[t] = window.itemAt(t);
            historyCategories[t] = window.categoryAt(t);
        }
        if (toShadow) {
            // the request's arrays are not changed by anyone after decoding; the window's are copies
            out.output(SHADOW, new ShadowRequest(requestId, userId, eventTime, itemIds, categoryIds, historyItems,
                    historyCategories, window.totalClicks()));
            shadowHandedOff.inc();
        }
        if (toLog) {
            List<HistoryClick> history = new ArrayList<>(k);
            for (int t = 0; t < k; t++) {
                history.add(new HistoryClick(historyItems[t], historyCategories[t]));
            }
            List<Candidate> candidates = new ArrayList<>(n);
            List<Float> scores = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                candidates.add(new Candidate(itemIds[i], categoryIds[i]));
                scores.add(ctr[i]);
            }
            out.output(SERVING_LOG, ServingLog.newBuilder()
                    .setRequestId(requestId)
                    .setUserId(userId)
                    .setRequestTime(Instant.ofEpochMilli(eventTime))
                    .setScoredAt(Instant.ofEpochMilli(scoredAt))
                    .setModelVersion(model.modelVersion())
                    .setModelFingerprint(model.fingerprint())
                    .setClicksApplied(window.totalClicks())
                    .setHistory(history)
                    .setCandidates(candidates)
                    .setScores(scores)
                    .setLabels(List.of())
                    .build());
            servingLogRecords.inc();
        }
    }
}

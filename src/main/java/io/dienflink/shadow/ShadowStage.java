package io.dienflink.shadow;

import io.dienflink.avro.CtrScore;
import io.dienflink.avro.ServingLog;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Adds the challenger and the serving-log sink behind the scorer's side outputs
 * ({@link ServingHandOff}).
 *
 * <pre>
 *  interest-scorer ─ shadow-requests (rebalance) ─▶ shadow-challenger (async, slot group "shadow") ─▶ shadow-scores-sink
 *                  └ serving-log (chained, as the scores sink) ───────────────────────────────────▶ serving-log-sink
 * </pre>
 *
 * The challenger is never chained to the scorer and runs in its own slot-sharing group, so B's
 * work takes other slots (other cores) than serving; it has no keyed state (the async operator
 * keeps its in-flight requests in operator state across checkpoints).
 */
public final class ShadowStage {
    public static final String UID_CHALLENGER = "shadow-challenger";
    public static final String CHALLENGER_NAME = "Shadow challenger";
    public static final String UID_SHADOW_SINK = "shadow-scores-sink";
    public static final String UID_LOG_SINK = "serving-log-sink";
    /** The challenger's own slot-sharing group. */
    public static final String SLOT_GROUP = "shadow";
    /**
     * Requests not scored within this are given up (counted in {@code shadowTimedOut}): far beyond a
     * full queue's wait at any sane challenger speed, so it only fires when B hangs.
     */
    public static final long TIMEOUT_MS = 60_000;

    private ShadowStage() {}

    /**
     * @param scored the scorer's output, whose side outputs carry the hand-off
     * @param challenger B's function (B validated at submission)
     * @param shadowSink where B's scores go, or null when no challenger runs
     * @param logSink where the serving log goes, or null when it is off
     */
    public static void addTo(SingleOutputStreamOperator<CtrScore> scored, ShadowConfig config, ShadowScorer challenger,
                             Sink<CtrScore> shadowSink, Sink<ServingLog> logSink) {
        if (config.shadowOn()) {
            DataStream<ShadowRequest> handedOff = scored.getSideOutput(ServingHandOff.SHADOW).rebalance();
            SingleOutputStreamOperator<CtrScore> shadowScores = AsyncDataStream.unorderedWait(handedOff, challenger,
                            TIMEOUT_MS, TimeUnit.MILLISECONDS, challenger.operatorCapacity())
                    .name(CHALLENGER_NAME).uid(UID_CHALLENGER).slotSharingGroup(SLOT_GROUP);
            if (config.parallelism() > 0) {
                shadowScores.setParallelism(config.parallelism());
            }
            var sink = shadowScores.sinkTo(shadowSink).name("Kafka shadow scores").uid(UID_SHADOW_SINK);
            if (config.parallelism() > 0) {
                sink.setParallelism(config.parallelism());
            }
        }
        if (config.logOn()) {
            scored.getSideOutput(ServingHandOff.SERVING_LOG).sinkTo(logSink).name("Kafka serving log").uid(UID_LOG_SINK);
        }
    }
}

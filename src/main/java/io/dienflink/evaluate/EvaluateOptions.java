package io.dienflink.evaluate;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * The evaluate job's own settings (docs/evaluation.md, "Options"). The Kafka connection
 * ({@code dien.kafka.bootstrap-servers}, {@code dien.kafka.client.*}), the clicks and scores topics,
 * {@code dien.checkpoint.interval}, {@code dien.parallelism} and {@code dien.kafka.transaction-timeout}
 * are the scoring job's keys ({@link io.dienflink.job.DienJobOptions}), as are the challenger's scores
 * ({@code dien.topic.shadow-scores}) and the serving log ({@code dien.topic.serving-log}) the scoring job
 * writes: one properties file serves both jobs.
 */
public final class EvaluateOptions {
    private EvaluateOptions() {}

    public static final ConfigOption<Duration> ATTRIBUTION_WINDOW = ConfigOptions.key("dien.eval.attribution-window")
            .durationType().defaultValue(Duration.ofMinutes(5))
            .withDescription("A scored candidate is positive when the same user clicks the same item at most this long "
                    + "after the request (event time, both ends included), negative when the window has closed "
                    + "(the watermark passed request time + window). A minute's ModelEval is written once the last "
                    + "window of the minute closed, so this is also the evaluation's delay. Why 5 minutes: "
                    + "docs/evaluation.md.");

    public static final ConfigOption<Integer> MAX_PENDING_PER_USER = ConfigOptions.key("dien.eval.max-pending-per-user")
            .intType().defaultValue(1_000)
            .withDescription("Most requests of one user waiting for their window to close. A new request beyond it "
                    + "drops the user's oldest pending request: its scored candidates are counted in the metric "
                    + "droppedPending and in ModelEval.dropped_pending of its minute, never labelled.");

    public static final ConfigOption<Duration> OUT_OF_ORDERNESS = ConfigOptions.key("dien.eval.out-of-orderness")
            .durationType().defaultValue(Duration.ofSeconds(10))
            .withDescription("How far behind the newest event time of its Kafka partition a record may arrive and "
                    + "still count as on time (bounded out-of-orderness watermarks, per partition).");

    public static final ConfigOption<Duration> SOURCE_IDLENESS = ConfigOptions.key("dien.eval.source-idleness")
            .durationType().defaultValue(Duration.ofMinutes(1))
            .withDescription("A Kafka partition without records for this long stops holding back the watermark "
                    + "(an empty shadow-scores or impressions partition would otherwise stop every label). "
                    + "Records it brings later are late if they are older than the watermark by more than the "
                    + "attribution window, and then counted (lateScores), not labelled.");

    public static final ConfigOption<Boolean> READ_SHADOW = ConfigOptions.key("dien.eval.shadow")
            .booleanType().defaultValue(true)
            .withDescription("Read the challenger's scores (dien.topic.shadow-scores); the topic must exist.");

    public static final ConfigOption<String> IMPRESSIONS_TOPIC = ConfigOptions.key("dien.topic.impressions")
            .stringType().noDefaultValue()
            .withDescription("Topic of Impression records (request id and the items the ad server showed). When set, "
                    + "only shown candidates are labelled; the others get label -1 and count nowhere. Unset: every "
                    + "scored candidate is labelled (see docs/evaluation.md for the bias that gives).");

    public static final ConfigOption<Boolean> LABEL_SERVING_LOG = ConfigOptions.key("dien.eval.serving-log")
            .booleanType().defaultValue(false)
            .withDescription("Read dien.topic.serving-log and write each record, labels attached, to "
                    + "dien.topic.serving-log-labelled once its window closed (the labels the champion's metrics used).");

    public static final ConfigOption<String> SERVING_LOG_LABELLED_TOPIC = ConfigOptions.key("dien.topic.serving-log-labelled")
            .stringType().defaultValue("serving-log-labelled")
            .withDescription("Topic of the labelled ServingLog records, keyed by user id.");

    public static final ConfigOption<String> MODEL_EVAL_TOPIC = ConfigOptions.key("dien.topic.model-eval")
            .stringType().defaultValue("model-eval")
            .withDescription("Topic of the ModelEval records (one per model fingerprint, role and minute), keyed by "
                    + "fingerprint.");

    public static final ConfigOption<String> GROUP_ID = ConfigOptions.key("dien.eval.group-id")
            .stringType().defaultValue("dien-flink-eval")
            .withDescription("Consumer group of the evaluate job (offsets committed on checkpoints, for monitoring).");

    public static final ConfigOption<String> DELIVERY_GUARANTEE = ConfigOptions.key("dien.eval.delivery-guarantee")
            .stringType().defaultValue(DeliveryGuarantee.EXACTLY_ONCE.name())
            .withDescription("EXACTLY_ONCE (default: Kafka transactions, read_committed inputs; each minute's "
                    + "ModelEval and each labelled log record appear once) or AT_LEAST_ONCE (after a failure some "
                    + "repeat). The evaluation is read minutes later anyway, so the checkpoint interval's delay costs "
                    + "nothing.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = ConfigOptions.key("dien.eval.transactional-id-prefix")
            .stringType().defaultValue("dien-flink-eval")
            .withDescription("EXACTLY_ONCE only: transactional id prefix of the evaluate job's sinks; different from "
                    + "the scoring job's, stable across restarts.");

    /**
     * The evaluation's output topics at their defaults (labelled serving log, model-eval), which the
     * local cluster creates next to the scoring job's (its inputs: {@code dien.topic.shadow-scores} and
     * {@code dien.topic.serving-log} are the scoring job's options).
     */
    public static java.util.List<String> defaultTopics() {
        return java.util.List.of(SERVING_LOG_LABELLED_TOPIC.defaultValue(), MODEL_EVAL_TOPIC.defaultValue());
    }

    /** The delivery guarantee of the settings (case and - or _ ignored). */
    public static DeliveryGuarantee deliveryGuarantee(Configuration conf) {
        String value = conf.get(DELIVERY_GUARANTEE).trim().replace('-', '_').toUpperCase(java.util.Locale.ROOT);
        if (value.equals(DeliveryGuarantee.AT_LEAST_ONCE.name())) {
            return DeliveryGuarantee.AT_LEAST_ONCE;
        }
        if (value.equals(DeliveryGuarantee.EXACTLY_ONCE.name())) {
            return DeliveryGuarantee.EXACTLY_ONCE;
        }
        throw new IllegalArgumentException(DELIVERY_GUARANTEE.key() + ": must be AT_LEAST_ONCE or EXACTLY_ONCE, got '"
                + conf.get(DELIVERY_GUARANTEE) + "'");
    }
}

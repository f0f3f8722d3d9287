package io.dienflink.evaluate;

import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * The evaluate job's settings, read once from a Flink {@link Configuration} ({@link EvaluateOptions}
 * and the scoring job's shared keys) and validated.
 *
 * @param impressionsTopic null when no impressions are read
 */
public record EvaluateConfig(
        String bootstrapServers,
        String groupId,
        String scoresTopic,
        String shadowScoresTopic,
        boolean readShadow,
        String clicksTopic,
        String impressionsTopic,
        String servingLogTopic,
        boolean labelServingLog,
        String servingLogLabelledTopic,
        String modelEvalTopic,
        Duration attributionWindow,
        int maxPendingPerUser,
        Duration outOfOrderness,
        Duration sourceIdleness,
        DeliveryGuarantee deliveryGuarantee,
        Duration checkpointInterval,
        int parallelism,
        Duration transactionTimeout,
        String transactionalIdPrefix,
        Map<String, String> kafkaClientProperties) implements Serializable {

    public EvaluateConfig {
        require(bootstrapServers != null && !bootstrapServers.isBlank(), DienJobOptions.BOOTSTRAP_SERVERS, "is required");
        require(attributionWindow.toMillis() > 0, EvaluateOptions.ATTRIBUTION_WINDOW, "must be positive");
        require(maxPendingPerUser > 0, EvaluateOptions.MAX_PENDING_PER_USER, "must be positive");
        require(!outOfOrderness.isNegative(), EvaluateOptions.OUT_OF_ORDERNESS, "must not be negative");
        require(sourceIdleness.toMillis() > 0, EvaluateOptions.SOURCE_IDLENESS, "must be positive");
        require(!checkpointInterval.isNegative() && !checkpointInterval.isZero(), DienJobOptions.CHECKPOINT_INTERVAL,
                "must be positive");
        require(impressionsTopic == null || !impressionsTopic.isBlank(), EvaluateOptions.IMPRESSIONS_TOPIC,
                "must not be blank (leave it unset for no impressions)");
        kafkaClientProperties = Map.copyOf(kafkaClientProperties);
    }

    /** Reads and validates the settings. */
    public static EvaluateConfig from(Configuration conf) {
        return new EvaluateConfig(
                conf.get(DienJobOptions.BOOTSTRAP_SERVERS),
                conf.get(EvaluateOptions.GROUP_ID),
                conf.get(DienJobOptions.SCORES_TOPIC),
                conf.get(DienJobOptions.SHADOW_SCORES_TOPIC),
                conf.get(EvaluateOptions.READ_SHADOW),
                conf.get(DienJobOptions.CLICKS_TOPIC),
                conf.get(EvaluateOptions.IMPRESSIONS_TOPIC),
                conf.get(DienJobOptions.SERVING_LOG_TOPIC),
                conf.get(EvaluateOptions.LABEL_SERVING_LOG),
                conf.get(EvaluateOptions.SERVING_LOG_LABELLED_TOPIC),
                conf.get(EvaluateOptions.MODEL_EVAL_TOPIC),
                conf.get(EvaluateOptions.ATTRIBUTION_WINDOW),
                conf.get(EvaluateOptions.MAX_PENDING_PER_USER),
                conf.get(EvaluateOptions.OUT_OF_ORDERNESS),
                conf.get(EvaluateOptions.SOURCE_IDLENESS),
                EvaluateOptions.deliveryGuarantee(conf),
                conf.get(DienJobOptions.CHECKPOINT_INTERVAL),
                conf.get(DienJobOptions.PARALLELISM),
                conf.get(DienJobOptions.TRANSACTION_TIMEOUT),
                conf.get(EvaluateOptions.TRANSACTIONAL_ID_PREFIX),
                DienJobConfig.kafkaClientSettings(conf));
    }

    /** Whether impressions are read: then only shown candidates are labelled. */
    public boolean impressions() {
        return impressionsTopic != null;
    }

    /** Pass-through client properties (SASL, SSL, …) for consumers and producers. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.putAll(kafkaClientProperties);
        return p;
    }

    private static void require(boolean ok, ConfigOption<?> option, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(option.key() + ": " + problem);
        }
    }
}

package io.dienflink.job;

import io.dienflink.kafka.Topics;
import io.dienflink.shadow.ShadowConfig;
import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * The job's settings, read once from a Flink {@link Configuration} (see {@link DienJobOptions} for
 * every key, default and meaning) and validated.
 */
public record DienJobConfig(
        String bootstrapServers,
        String groupId,
        Topics topics,
        String modelPath,
        DeliveryGuarantee deliveryGuarantee,
        Duration checkpointInterval,
        int parallelism,
        Duration inactivityExpiry,
        int maxCandidates,
        int maxIdBytes,
        Duration requestMaxAge,
        DienJobOptions.InitialOffset requestInitialOffset,
        int dedupWindow,
        Duration dedupHorizon,
        int windowCacheUsers,
        Duration transactionTimeout,
        String transactionalIdPrefix,
        Map<String, String> kafkaClientProperties,
        ShadowConfig shadow) implements Serializable {

    public DienJobConfig {
        require(modelPath != null && !modelPath.isBlank(), DienJobOptions.MODEL_PATH, "is required");
        require(maxCandidates > 0, DienJobOptions.MAX_CANDIDATES, "must be positive");
        require(maxIdBytes > 0, DienJobOptions.MAX_ID_BYTES, "must be positive");
        require(!requestMaxAge.isNegative(), DienJobOptions.REQUEST_MAX_AGE, "must not be negative (0 disables it)");
        require(dedupWindow > 0, DienJobOptions.DEDUP_WINDOW, "must be positive");
        require(dedupHorizon.toMillis() > 0, DienJobOptions.DEDUP_HORIZON, "must be positive");
        require(windowCacheUsers >= 0, DienJobOptions.WINDOW_CACHE_USERS, "must not be negative (0 disables it)");
        require(!inactivityExpiry.isNegative() && !inactivityExpiry.isZero(), DienJobOptions.INACTIVITY_EXPIRY, "must be positive");
        require(!checkpointInterval.isNegative() && !checkpointInterval.isZero(), DienJobOptions.CHECKPOINT_INTERVAL, "must be positive");
        require(!transactionTimeout.isNegative() && !transactionTimeout.isZero(), DienJobOptions.TRANSACTION_TIMEOUT,
                "must be positive");
        kafkaClientProperties = Map.copyOf(kafkaClientProperties);
        require(shadow.shadowShare() >= 0 && shadow.shadowShare() <= 1, DienJobOptions.SHADOW_SHARE, "must be in [0, 1]");
        require(shadow.logShare() >= 0 && shadow.logShare() <= 1, DienJobOptions.LOG_SHARE, "must be in [0, 1]");
        require(shadow.queue() > 0, DienJobOptions.SHADOW_QUEUE, "must be positive");
        require(shadow.threads() > 0, DienJobOptions.SHADOW_THREADS, "must be positive");
        require(shadow.parallelism() == -1 || shadow.parallelism() > 0, DienJobOptions.SHADOW_PARALLELISM,
                "must be positive, or -1 for the job's parallelism");
    }

    /** The topics the job writes to beside its four: the shadow scores' and the serving log's when on. */
    public java.util.List<String> extraTopics() {
        return shadow.topics();
    }

    /** Which click event ids the scorer remembers, and for how long. */
    public DedupPolicy dedup() {
        return new DedupPolicy(dedupWindow, dedupHorizon.toMillis());
    }

    /** Reads and validates the job settings. */
    public static DienJobConfig from(Configuration conf) {
        return new DienJobConfig(
                conf.get(DienJobOptions.BOOTSTRAP_SERVERS),
                conf.get(DienJobOptions.GROUP_ID),
                topics(conf),
                conf.get(DienJobOptions.MODEL_PATH),
                DienJobOptions.deliveryGuarantee(conf),
                conf.get(DienJobOptions.CHECKPOINT_INTERVAL),
                conf.get(DienJobOptions.PARALLELISM),
                conf.get(DienJobOptions.INACTIVITY_EXPIRY),
                conf.get(DienJobOptions.MAX_CANDIDATES),
                conf.get(DienJobOptions.MAX_ID_BYTES),
                conf.get(DienJobOptions.REQUEST_MAX_AGE),
                DienJobOptions.requestInitialOffset(conf),
                conf.get(DienJobOptions.DEDUP_WINDOW),
                conf.get(DienJobOptions.DEDUP_HORIZON),
                conf.get(DienJobOptions.WINDOW_CACHE_USERS),
                conf.get(DienJobOptions.TRANSACTION_TIMEOUT),
                conf.get(DienJobOptions.TRANSACTIONAL_ID_PREFIX),
                kafkaClientSettings(conf),
                new ShadowConfig(conf.get(DienJobOptions.SHADOW_MODEL), conf.get(DienJobOptions.SHADOW_SHARE),
                        conf.get(DienJobOptions.SHADOW_QUEUE), conf.get(DienJobOptions.SHADOW_THREADS),
                        conf.get(DienJobOptions.SHADOW_PARALLELISM), conf.get(DienJobOptions.LOG_SHARE),
                        conf.get(DienJobOptions.SHADOW_SCORES_TOPIC), conf.get(DienJobOptions.SERVING_LOG_TOPIC)));
    }

    /** The topics of the settings; also what the tools ({@code generate}, {@code read-scores}) use. */
    public static Topics topics(Configuration conf) {
        return new Topics(conf.get(DienJobOptions.CLICKS_TOPIC), conf.get(DienJobOptions.REQUESTS_TOPIC),
                conf.get(DienJobOptions.SCORES_TOPIC), conf.get(DienJobOptions.DEAD_LETTER_TOPIC));
    }

    /** The pass-through Kafka client settings ({@value DienJobOptions#KAFKA_CLIENT_PREFIX}…), the prefix removed. */
    public static Map<String, String> kafkaClientSettings(Configuration conf) {
        java.util.HashMap<String, String> client = new java.util.HashMap<>();
        for (Map.Entry<String, String> e : conf.toMap().entrySet()) {
            if (e.getKey().startsWith(DienJobOptions.KAFKA_CLIENT_PREFIX)) {
                client.put(e.getKey().substring(DienJobOptions.KAFKA_CLIENT_PREFIX.length()), e.getValue());
            }
        }
        return client;
    }

    /** The Kafka connection settings, checked: a job that reads Kafka needs bootstrap servers. */
    public String requireBootstrapServers() {
        require(bootstrapServers != null && !bootstrapServers.isBlank(), DienJobOptions.BOOTSTRAP_SERVERS, "is required");
        return bootstrapServers;
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

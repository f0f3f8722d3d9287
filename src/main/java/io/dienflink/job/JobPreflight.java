package io.dienflink.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.StateChangelogOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settings that cannot keep the job's promise, refused before submission rather than discovered
 * after data is lost or doubled:
 * <ul>
 *   <li>no {@code execution.checkpointing.dir}: Flink would keep checkpoints on the JobManager's heap,
 *       and a JobManager failure would lose the state of every user;</li>
 *   <li>exactly-once with a checkpoint timeout plus interval not below the transaction timeout: a
 *       slow checkpoint lets the broker abort the transaction that holds its scores, which are then
 *       lost although the checkpoint completes;</li>
 *   <li>exactly-once with a transaction timeout over the broker's {@code transaction.max.timeout.ms}:
 *       every producer would be refused at start;</li>
 *   <li>the changelog state backend (the project's one configuration, docs/job.md) with any storage
 *       but {@code filesystem}: Flink's default, {@code memory}, keeps the state changes on the
 *       TaskManager's heap, and a lost TaskManager would lose them;</li>
 *   <li>the changelog state backend restoring in NO_CLAIM mode (Flink's CLI passes it with
 *       {@code flink run -s} unless given {@code --claimMode CLAIM}): the changelog cannot take the
 *       full first checkpoint NO_CLAIM needs, so every checkpoint after the restore would fail.</li>
 * </ul>
 */
public final class JobPreflight {
    private static final Logger LOG = LoggerFactory.getLogger(JobPreflight.class);

    /** One refused setting: the key and a sentence saying what is wrong and how to fix it. */
    public record Problem(String key, String message) {
        @Override
        public String toString() {
            return key + ": " + message;
        }
    }

    private JobPreflight() {}

    /**
     * The problems of {@code flink} (the effective Flink configuration, cluster settings included)
     * with {@code config}; empty when the job may start.
     *
     * @param brokerMaxTransactionMs the broker's transaction.max.timeout.ms, when known
     */
    public static List<Problem> problems(ReadableConfig flink, DienJobConfig config, OptionalLong brokerMaxTransactionMs) {
        return problems(flink, config.deliveryGuarantee(), config.checkpointInterval(), config.transactionTimeout(),
                brokerMaxTransactionMs);
    }

    /**
     * The same checks for any job of this project with these settings (the evaluate job's
     * {@code dien.eval.delivery-guarantee} in place of the scoring job's).
     */
    public static List<Problem> problems(ReadableConfig flink, DeliveryGuarantee guarantee, Duration checkpointInterval,
                                         Duration transactionTimeout, OptionalLong brokerMaxTransactionMs) {
        List<Problem> out = new ArrayList<>();
        if (flink.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isEmpty()) {
            out.add(new Problem(CheckpointingOptions.CHECKPOINTS_DIRECTORY.key(),
                    "not set, so checkpoints would live on the JobManager's heap and a JobManager failure would lose "
                            + "every user's state; set it to durable storage, e.g. -D"
                            + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key() + "=s3://bucket/dien/checkpoints"));
        }
        if (flink.get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG)
                && !"filesystem".equals(flink.get(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE))) {
            out.add(new Problem(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE.key(),
                    "is '" + flink.get(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE) + "' while "
                            + StateChangelogOptions.ENABLE_STATE_CHANGE_LOG.key() + " is true: Flink's default changelog "
                            + "storage keeps state changes in memory (meant for tests), so a TaskManager failure would lose "
                            + "them; set it to filesystem and " + DienScoringJob.CHANGELOG_BASE_PATH.key()
                            + " to durable storage in the cluster's configuration (docs/job.md)"));
        }
        if (flink.get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG)
                && flink.getOptional(StateRecoveryOptions.SAVEPOINT_PATH).isPresent()
                && flink.get(StateRecoveryOptions.RESTORE_MODE) == RecoveryClaimMode.NO_CLAIM) {
            out.add(new Problem(StateRecoveryOptions.RESTORE_MODE.key(),
                    "is NO_CLAIM while " + StateChangelogOptions.ENABLE_STATE_CHANGE_LOG.key() + " is true: the changelog "
                            + "state backend cannot take the full first checkpoint NO_CLAIM needs, so every checkpoint "
                            + "after the restore would fail; start with --claimMode CLAIM (-D"
                            + StateRecoveryOptions.RESTORE_MODE.key() + "=CLAIM), or without the changelog (docs/job.md)"));
        }
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            Duration checkpointTimeout = flink.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT);
            Duration needed = checkpointTimeout.plus(checkpointInterval);
            if (needed.compareTo(transactionTimeout) >= 0) {
                out.add(new Problem(DienJobOptions.TRANSACTION_TIMEOUT.key(),
                        transactionTimeout + " is not longer than the checkpoint timeout ("
                                + CheckpointingOptions.CHECKPOINTING_TIMEOUT.key() + " " + checkpointTimeout
                                + ") plus the interval (" + checkpointInterval + "): a slow checkpoint would let "
                                + "the broker abort the transaction holding its scores; lower the checkpoint timeout or "
                                + "raise the transaction timeout"));
            }
            brokerMaxTransactionMs.ifPresent(max -> {
                if (transactionTimeout.toMillis() > max) {
                    out.add(new Problem(DienJobOptions.TRANSACTION_TIMEOUT.key(),
                            transactionTimeout + " exceeds the broker's transaction.max.timeout.ms (" + max
                                    + " ms), so every transactional producer would be refused; lower it or raise the "
                                    + "broker's maximum"));
                }
            });
        }
        return out;
    }

    /**
     * The broker's {@code transaction.max.timeout.ms}, asked of one broker of the cluster; empty
     * when it cannot be read within a few seconds (then only the broker itself will refuse).
     */
    public static OptionalLong brokerMaxTransactionMs(DienJobConfig config) {
        return brokerMaxTransactionMs(config.requireBootstrapServers(), config.clientProperties());
    }

    /** The same for any job: its bootstrap servers and Kafka client settings. */
    public static OptionalLong brokerMaxTransactionMs(String bootstrapServers, java.util.Properties client) {
        Map<String, Object> props = new java.util.HashMap<>();
        client.forEach((k, v) -> props.put((String) k, v));
        props.put("bootstrap.servers", bootstrapServers);
        props.put("request.timeout.ms", "5000");
        props.put("default.api.timeout.ms", "10000");
        try (Admin admin = Admin.create(props)) {
            Node node = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).iterator().next();
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, node.idString());
            Config c = admin.describeConfigs(List.of(broker)).all().get(10, TimeUnit.SECONDS).get(broker);
            ConfigEntry e = c.get("transaction.max.timeout.ms");
            return e == null || e.value() == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(e.value()));
        } catch (Exception e) {
            LOG.warn("Could not read the broker's transaction.max.timeout.ms ({}); not checked", e.toString());
            return OptionalLong.empty();
        }
    }
}

package io.dienflink.job;

import io.dienflink.local.EmbeddedKafkaCluster;
import io.dienflink.kafka.Topics;
import java.nio.file.Path;
import java.util.Properties;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real in-JVM Kafka broker (KRaft) with the job's topics, for a test class, and the scoring job
 * started against it on the class's MiniCluster. Register with {@code @RegisterExtension static}.
 */
final class KafkaJobFixture implements BeforeAllCallback, AfterAllCallback {
    private EmbeddedKafkaCluster kafka;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        kafka = EmbeddedKafkaCluster.start(null);
        kafka.createTopics(2, Topics.DEFAULT.all());
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        kafka.close();
    }

    /** Creates topics of 2 partitions (a run of its own, so that a checker reading them from the start sees only it). */
    void createTopics(List<String> names) throws Exception {
        kafka.createTopics(2, names);
    }

    String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** An idempotent producer: a retried send is not a duplicate the tests would count. */
    KafkaProducer<byte[], byte[]> producer() {
        Properties p = kafka.clientProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("enable.idempotence", "true");
        return new KafkaProducer<>(p);
    }

    /** A consumer of a fresh group, from the earliest offset or only new records. */
    KafkaConsumer<byte[], byte[]> consumer(String group, boolean fromBeginning) {
        Properties p = kafka.clientProperties();
        p.put("group.id", group + "-" + System.nanoTime());
        p.put("auto.offset.reset", fromBeginning ? "earliest" : "latest");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    /**
     * Starts the job (parallelism 2) on the test's MiniCluster.
     *
     * @param savepoint a savepoint to start from, or null
     * @param settings further job settings, applied before validation
     */
    JobClient startJob(String model, String savepoint, Path checkpoints, String name, Consumer<Configuration> settings)
            throws Exception {
        return startJob(model, savepoint, checkpoints, name, settings, DienScoringJob::forKafka);
    }

    /**
     * The same with the job built by {@code job} from the validated settings (e.g. the Kafka job
     * with decorated sinks); settings may point the job at another broker.
     */
    JobClient startJob(String model, String savepoint, Path checkpoints, String name, Consumer<Configuration> settings,
                       Function<DienJobConfig, DienScoringJob> job) throws Exception {
        return startJob(kafka.bootstrapServers(), model, savepoint, checkpoints, name, settings, job);
    }

    /** The same against any broker, for tests that bring their own. */
    static JobClient startJob(String bootstrapServers, String model, String savepoint, Path checkpoints, String name,
                              Consumer<Configuration> settings, Function<DienJobConfig, DienScoringJob> job) throws Exception {
        Configuration conf = new Configuration();
        conf.set(DienJobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
        conf.set(DienJobOptions.MODEL_PATH, model);
        conf.set(DienJobOptions.PARALLELISM, 2);
        // tests write their input before the job starts and check every request: nothing is stale
        conf.set(DienJobOptions.REQUEST_INITIAL_OFFSET, DienJobOptions.InitialOffset.EARLIEST.name());
        conf.set(DienJobOptions.REQUEST_MAX_AGE, java.time.Duration.ZERO);
        settings.accept(conf);
        DienJobConfig config = DienJobConfig.from(conf);
        DienScoringJob.configure(conf, config);
        conf.addAll(DienScoringJob.rocksDbDefaults(conf));
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
            if (!conf.contains(StateRecoveryOptions.RESTORE_MODE)) {
                // the changelog state backend of the tests' clusters (ShippedStateBackend) restores
                // only in CLAIM mode; the job then owns the snapshot, and Flink deletes it once subsumed
                conf.set(StateRecoveryOptions.RESTORE_MODE, org.apache.flink.core.execution.RecoveryClaimMode.CLAIM);
            }
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(conf);
        job.apply(config).addTo(env);
        return env.executeAsync(name);
    }
}

package io.dienflink.job;

import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import io.dienflink.avro.ServingLog;
import io.dienflink.kafka.CtrScoreSerializer;
import io.dienflink.kafka.DeadLetterSerializer;
import io.dienflink.kafka.RawRecord;
import io.dienflink.kafka.RawRecordDeserializer;
import io.dienflink.model.ModelBundle;
import io.dienflink.shadow.ServingLogSerializer;
import io.dienflink.shadow.ShadowConfig;
import io.dienflink.shadow.ShadowScorer;
import io.dienflink.shadow.ShadowStage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateChangelogOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.rocksdb.CompressionType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streaming job: clicks and ad requests from Kafka, through the per-user interest state, to
 * CTR scores, with every unusable input record on a dead-letter topic.
 *
 * <pre>
 *  clicks ──▶ decode+validate ──┐ keyBy(user)                      ┌──▶ scores sink
 *                               ├──────────────▶ interest-scorer ──┘
 *  requests ▶ decode+validate ──┘ keyBy(user)        └─ expired requests ─┐
 *                 └──── dead letters (side outputs, unioned) ──────────────┴─▶ dead-letter sink
 * </pre>
 *
 * With {@code dien.shadow.model} or {@code dien.log.share} the scorer also hands sampled requests to
 * the shadow challenger and the serving log (side outputs; {@link ShadowStage} adds the rest).
 *
 * Sources and sinks are injected so tests can swap them; {@link #forKafka} builds the Kafka ones.
 * Every operator has a name and a stable uid (savepoints depend on the uids).
 */
public final class DienScoringJob {
    public static final String UID_CLICKS_SOURCE = "clicks-source";
    public static final String UID_REQUESTS_SOURCE = "requests-source";
    public static final String UID_CLICKS_DECODE = "clicks-decode";
    public static final String UID_REQUESTS_DECODE = "requests-decode";
    public static final String UID_SCORER = "interest-scorer";
    /** The scoring operator's name, which Flink's REST API shows in its vertex's name (chaos, cluster-bench). */
    public static final String SCORER_NAME = "DIEN interest state and scoring";
    public static final String UID_SCORES_SINK = "scores-sink";
    public static final String UID_DEAD_LETTER_SINK = "dead-letter-sink";

    private static final Logger LOG = LoggerFactory.getLogger(DienScoringJob.class);

    private final DienJobConfig config;
    private final String modelFingerprint;
    private final Source<RawRecord, ?, ?> clicks;
    private final Source<RawRecord, ?, ?> requests;
    private final Sink<CtrScore> scores;
    private final Sink<DeadLetter> deadLetters;
    /** Issue 19's hand-off: B's function and the two extra sinks, each null when its feature is off. */
    private final ShadowScorer challenger;
    private final Sink<CtrScore> shadowScores;
    private final Sink<ServingLog> servingLog;

    /**
     * @param modelFingerprint the bundle's fingerprint as validated at submission; every TaskManager checks it
     */
    public DienScoringJob(DienJobConfig config, String modelFingerprint, Source<RawRecord, ?, ?> clicks,
                          Source<RawRecord, ?, ?> requests, Sink<CtrScore> scores, Sink<DeadLetter> deadLetters) {
        this(config, modelFingerprint, clicks, requests, scores, deadLetters, null, null, null);
    }

    /**
     * @param challenger the shadow challenger's function, or null when {@code config.shadow()} runs none
     * @param shadowScores where the challenger's scores go, or null likewise
     * @param servingLog where the serving log goes, or null when {@code config.shadow()} writes none
     */
    public DienScoringJob(DienJobConfig config, String modelFingerprint, Source<RawRecord, ?, ?> clicks,
                          Source<RawRecord, ?, ?> requests, Sink<CtrScore> scores, Sink<DeadLetter> deadLetters,
                          ShadowScorer challenger, Sink<CtrScore> shadowScores, Sink<ServingLog> servingLog) {
        if (config.shadow().shadowOn() && (challenger == null || shadowScores == null)) {
            throw new IllegalArgumentException(DienJobOptions.SHADOW_MODEL.key() + " is set: the job needs the challenger and its sink");
        }
        if (config.shadow().logOn() && servingLog == null) {
            throw new IllegalArgumentException(DienJobOptions.LOG_SHARE.key() + " is positive: the job needs the serving-log sink");
        }
        this.config = config;
        this.modelFingerprint = modelFingerprint;
        this.clicks = clicks;
        this.requests = requests;
        this.scores = scores;
        this.deadLetters = deadLetters;
        this.challenger = challenger;
        this.shadowScores = shadowScores;
        this.servingLog = servingLog;
    }

    /**
     * The job on Kafka: validates the model bundle first (a bad bundle stops here with the field
     * named), then builds the sources and sinks from the config.
     */
    public static DienScoringJob forKafka(DienJobConfig config) {
        ModelBundle bundle = ModelBundle.load(Path.of(config.modelPath()));
        LOG.info("Model {} ({}) validated", bundle.config().modelVersion(), bundle.fingerprint());
        String servers = config.requireBootstrapServers();
        Properties props = config.clientProperties();
        ShadowConfig shadow = config.shadow();
        ShadowScorer challenger = null;
        KafkaSink<CtrScore> shadowSink = null;
        if (shadow.shadowOn()) {
            ModelBundle b;
            try {
                b = ModelBundle.load(Path.of(shadow.modelPath()));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(DienJobOptions.SHADOW_MODEL.key() + ": " + e.getMessage(), e);
            }
            LOG.info("Shadow challenger {} ({}) validated", b.config().modelVersion(), b.fingerprint());
            challenger = new ShadowScorer(shadow.modelPath(), b.fingerprint(), shadow.threads(), shadow.queue());
            shadowSink = KafkaSink.<CtrScore>builder()
                    .setBootstrapServers(servers)
                    .setKafkaProducerConfig(producerProperties(config))
                    .setDeliveryGuarantee(config.deliveryGuarantee())
                    .setTransactionalIdPrefix(config.transactionalIdPrefix() + "-shadow")
                    .setRecordSerializer(new CtrScoreSerializer(shadow.shadowScoresTopic()))
                    .build();
        }
        KafkaSink<ServingLog> logSink = !shadow.logOn() ? null : KafkaSink.<ServingLog>builder()
                .setBootstrapServers(servers)
                .setKafkaProducerConfig(producerProperties(config))
                .setDeliveryGuarantee(config.deliveryGuarantee())
                .setTransactionalIdPrefix(config.transactionalIdPrefix() + "-log")
                .setRecordSerializer(new ServingLogSerializer(shadow.servingLogTopic()))
                .build();
        return new DienScoringJob(config, bundle.fingerprint(),
                kafkaSource(servers, config.topics().clicks(), config.groupId(), props, OffsetResetStrategy.EARLIEST),
                kafkaSource(servers, config.topics().requests(), config.groupId(), props,
                        config.requestInitialOffset() == DienJobOptions.InitialOffset.LATEST
                                ? OffsetResetStrategy.LATEST : OffsetResetStrategy.EARLIEST),
                KafkaSink.<CtrScore>builder()
                        .setBootstrapServers(servers)
                        .setKafkaProducerConfig(producerProperties(config))
                        .setDeliveryGuarantee(config.deliveryGuarantee())
                        .setTransactionalIdPrefix(config.transactionalIdPrefix())
                        .setRecordSerializer(new CtrScoreSerializer(config.topics().scores()))
                        .build(),
                KafkaSink.<DeadLetter>builder()
                        .setBootstrapServers(servers)
                        .setKafkaProducerConfig(producerProperties(config))
                        .setDeliveryGuarantee(config.deliveryGuarantee())
                        .setTransactionalIdPrefix(config.transactionalIdPrefix() + "-dlq")
                        .setRecordSerializer(new DeadLetterSerializer(config.topics().deadLetters()))
                        .build(),
                challenger, shadowSink, logSink);
    }

    /**
     * This job with its sinks decorated, sources and settings unchanged: the seam the fault-injection
     * tests use to wrap the Kafka sinks {@link #forKafka} built (a wrapper must keep the sink's
     * committer and writer state, or exactly-once output would silently change meaning).
     */
    public DienScoringJob withSinks(UnaryOperator<Sink<CtrScore>> scoresSink, UnaryOperator<Sink<DeadLetter>> deadLetterSink) {
        return new DienScoringJob(config, modelFingerprint, clicks, requests, scoresSink.apply(scores),
                deadLetterSink.apply(deadLetters), challenger, shadowScores, servingLog);
    }

    /**
     * This job with another challenger function (the seam tests use to run a slow or failing
     * bundle B in the real job); the job must have the shadow challenger on.
     */
    public DienScoringJob withChallenger(ShadowScorer other) {
        return new DienScoringJob(config, modelFingerprint, clicks, requests, scores, deadLetters, other, shadowScores,
                servingLog);
    }

    private static KafkaSource<RawRecord> kafkaSource(String servers, String topic, String groupId, Properties props,
                                                      OffsetResetStrategy withoutCommit) {
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(servers)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(withoutCommit))
                .setDeserializer(new RawRecordDeserializer())
                .setProperties(props)
                .build();
    }

    private static Properties producerProperties(DienJobConfig config) {
        return producerProperties(config.clientProperties(), config.deliveryGuarantee(), config.transactionTimeout());
    }

    /**
     * The producer settings of a Kafka sink of this project's jobs (the scoring job's and the
     * evaluate job's): the client settings, a 5 ms linger unless set, and under exactly-once the
     * transaction timeout (the sink's own default, 1 h, exceeds the broker's maximum).
     */
    public static Properties producerProperties(Properties client, DeliveryGuarantee guarantee, Duration transactionTimeout) {
        Properties p = new Properties();
        p.putAll(client);
        p.putIfAbsent("linger.ms", "5");
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            p.put("transaction.timeout.ms", Long.toString(transactionTimeout.toMillis()));
        }
        return p;
    }

    /**
     * The Flink settings the job relies on: RocksDB with incremental checkpoints, explicit uids only,
     * no silent Kryo fallback, object reuse between chained operators unless set, checkpoints retained on cancellation and a 5 ms network buffer timeout
     * unless those two are set. Checkpoint storage
     * (execution.checkpointing.dir) comes from the caller.
     */
    public static void configure(Configuration conf, DienJobConfig config) {
        configure(conf, config.checkpointInterval(), config.deliveryGuarantee());
    }

    /**
     * {@link #configure(Configuration, DienJobConfig)} for any job of this project with that
     * checkpoint interval and delivery guarantee (the evaluate job takes the same settings).
     */
    public static void configure(Configuration conf, Duration checkpointInterval, DeliveryGuarantee guarantee) {
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        if (!conf.contains(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)) {
            conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        }
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
        if (!conf.contains(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE)) {
            // At-least-once output does not need aligned barriers, and alignment stalls every input
            // channel at each checkpoint. A click replayed after a failure is caught by the
            // per-user event-id de-duplication; requests may be scored twice (same request_id).
            conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                    guarantee == DeliveryGuarantee.EXACTLY_ONCE
                            ? CheckpointingMode.EXACTLY_ONCE : CheckpointingMode.AT_LEAST_ONCE);
        }
        if (!conf.contains(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION)) {
            // A cancelled job (by mistake, or to change a setting) must be able to resume from its
            // newest checkpoint; Flink's default deletes them on cancellation.
            conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                    ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        }
        if (!conf.contains(PipelineOptions.OBJECT_REUSE)) {
            // Without it every record is deep-copied between chained operators (a RawRecord from the
            // source to its decoder, a CtrScore from the scorer to its sink). No operator of this job
            // keeps or changes a record it was given, and each emits new objects, so the copies buy nothing.
            conf.set(PipelineOptions.OBJECT_REUSE, true);
        }
        conf.set(PipelineOptions.AUTO_GENERATE_UIDS, false);
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        if (!conf.contains(ExecutionOptions.BUFFER_TIMEOUT)) {
            // Flink's default (100 ms) trades latency for throughput; scores are latency-bound.
            conf.set(ExecutionOptions.BUFFER_TIMEOUT, Duration.ofMillis(5));
        }
        if (!conf.contains(ExecutionOptions.SNAPSHOT_COMPRESSION)) {
            // Savepoints (canonical format) are read back by restoring RocksDB from them, and Flink
            // reads an uncompressed one from a local file system byte by byte (one system call per
            // read of an int); compressed (Snappy) frames are read in blocks. Measured on `migrate`:
            // docs/upgrades.md. Incremental checkpoints (RocksDB's own files) are not affected.
            conf.set(ExecutionOptions.SNAPSHOT_COMPRESSION, true);
        }
    }

    /** Where the changelog state backend writes state changes (flink-dstl-dfs's option, named here to keep that jar out of the job's compile-time API). */
    public static final ConfigOption<String> CHANGELOG_BASE_PATH =
            ConfigOptions.key("state.changelog.dstl.dfs.base-path").stringType().noDefaultValue()
                    .withDescription("Base path of the changelog state backend's state-change files.");

    /**
     * The changelog state backend, the project's one state-backend configuration, as this project
     * sets it where it writes the cluster's configuration itself (the embedded MiniCluster of demo,
     * bench and tests; the local standalone cluster's config.yaml): enabled, with its state changes
     * in {@code changelog/} next to the checkpoints and restores in CLAIM mode, unless
     * {@code state.changelog.enabled} is set either way or there is no checkpoint directory. The
     * shipped deployment files (docker-compose, the Kubernetes FlinkDeployment) carry the same
     * lines for their checkpoint directory; DeploymentFilesTest holds all of them to this method.
     *
     * <p>Why: it was measured against plain RocksDB on the local cluster (docs/benchmarks.md, "One
     * state-backend configuration"): RocksDB's incremental checkpoints re-upload what compaction
     * rewrote (the whole state per checkpoint at 10,000 users) and flush the memtables on the task
     * thread; with the changelog a checkpoint only persists the state changes written since the
     * last one, and RocksDB is snapshotted ("materialized") in the background every
     * {@code state.changelog.periodic-materialize.interval} (10 min by default). The changelog
     * storage is a TaskManager setting, so on other clusters it belongs in the cluster's
     * configuration; {@link JobPreflight} refuses Flink's in-memory default storage and NO_CLAIM
     * restores. In CLAIM mode Flink owns the snapshot a job starts from (and deletes it once newer
     * checkpoints subsume it), because the changelog backend cannot take the full first checkpoint
     * that NO_CLAIM requires.
     */
    public static Configuration changelogDefaults(ReadableConfig effective) {
        Configuration defaults = new Configuration();
        Optional<String> checkpoints = effective.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
        if (effective.getOptional(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG).isPresent() || checkpoints.isEmpty()) {
            return defaults;
        }
        defaults.set(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG, true);
        defaults.set(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE, "filesystem");
        if (effective.getOptional(StateRecoveryOptions.RESTORE_MODE).isEmpty()) {
            // the changelog backend cannot take the full first checkpoint that NO_CLAIM needs
            defaults.set(StateRecoveryOptions.RESTORE_MODE, RecoveryClaimMode.CLAIM);
        }
        if (effective.getOptional(CHANGELOG_BASE_PATH).isEmpty()) {
            String dir = checkpoints.get();
            defaults.set(CHANGELOG_BASE_PATH, (dir.endsWith("/") ? dir : dir + "/") + "changelog");
        }
        return defaults;
    }

    /** Write buffer size the job sets unless {@code state.backend.rocksdb.writebuffer.size} is given. */
    public static final MemorySize LOW_LATENCY_WRITE_BUFFER = MemorySize.parse("2mb");
    /** Write buffers per column family the job sets unless {@code state.backend.rocksdb.writebuffer.count} is given. */
    public static final int LOW_LATENCY_WRITE_BUFFERS = 3;
    /** Compression per level the job sets unless {@code state.backend.rocksdb.compression.per.level} is given. */
    public static final List<CompressionType> LOW_LATENCY_COMPRESSION =
            List.of(CompressionType.NO_COMPRESSION, CompressionType.NO_COMPRESSION, CompressionType.LZ4_COMPRESSION);

    /**
     * RocksDB settings for checkpoints without stalls (docs/job.md, "Checkpoints and latency").
     * The synchronous phase of every RocksDB checkpoint flushes the memtables to new SST files and
     * fsyncs them while the scorer's task waits: with Flink's 64 MB write buffers that flush held up
     * to ten seconds of writes (19 MB for the headers alone at the demo's 5,000 clicks/s) and stopped
     * scoring for 200–600 ms. With small buffers RocksDB flushes in the background as they fill, so a
     * checkpoint only flushes the last partly filled one. L0 and L1 stay uncompressed because flushes
     * and the frequent L0→L1 compactions of small files would spend their CPU compressing mostly
     * random bytes (event ids, hidden states); deeper levels keep LZ4.
     *
     * @param effective the settings in force: the job's and, under {@code flink run} or the Operator,
     *                  the cluster's; whatever they set wins
     * @return the settings to add: only those {@code effective} does not set
     */
    public static Configuration rocksDbDefaults(ReadableConfig effective) {
        Configuration defaults = new Configuration();
        if (effective.getOptional(RocksDBConfigurableOptions.WRITE_BUFFER_SIZE).isEmpty()) {
            defaults.set(RocksDBConfigurableOptions.WRITE_BUFFER_SIZE, LOW_LATENCY_WRITE_BUFFER);
        }
        if (effective.getOptional(RocksDBConfigurableOptions.MAX_WRITE_BUFFER_NUMBER).isEmpty()) {
            // one more than Flink's 2, so that a flush slowed down by CPU contention does not stall writes
            defaults.set(RocksDBConfigurableOptions.MAX_WRITE_BUFFER_NUMBER, LOW_LATENCY_WRITE_BUFFERS);
        }
        if (effective.getOptional(RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL).isEmpty()) {
            defaults.set(RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL, LOW_LATENCY_COMPRESSION);
        }
        return defaults;
    }

    /** Adds the topology to {@code env}. */
    public void addTo(StreamExecutionEnvironment env) {
        if (config.parallelism() > 0) {
            env.setParallelism(config.parallelism());
        }
        SingleOutputStreamOperator<Click> validClicks = env
                .fromSource(clicks, WatermarkStrategy.noWatermarks(), "Kafka clicks").uid(UID_CLICKS_SOURCE)
                .process(new ClickDecoder(InputValidation.Limits.of(config))).name("Decode and validate clicks").uid(UID_CLICKS_DECODE);
        SingleOutputStreamOperator<ScoreRequest> validRequests = env
                .fromSource(requests, WatermarkStrategy.noWatermarks(), "Kafka ad requests").uid(UID_REQUESTS_SOURCE)
                .process(new RequestDecoder(InputValidation.Limits.of(config))).name("Decode and validate ad requests")
                .uid(UID_REQUESTS_DECODE);
        SingleOutputStreamOperator<CtrScore> scored = validClicks.keyBy(Click::userId)
                .connect(validRequests.keyBy(ScoreRequest::userId))
                .process(new InterestScorer(config.modelPath(), modelFingerprint, config.inactivityExpiry().toMillis(),
                        config.dedup(), config.requestMaxAge().toMillis(), config.windowCacheUsers(),
                        config.shadow().handOff()))
                .name(SCORER_NAME).uid(UID_SCORER);
        scored.sinkTo(scores).name("Kafka CTR scores").uid(UID_SCORES_SINK);
        ShadowStage.addTo(scored, config.shadow(), challenger, shadowScores, servingLog);
        DataStream<DeadLetter> dead = validClicks.getSideOutput(DeadLetterRouting.DEAD_LETTERS)
                .union(validRequests.getSideOutput(DeadLetterRouting.DEAD_LETTERS),
                        scored.getSideOutput(DeadLetterRouting.DEAD_LETTERS));
        dead.sinkTo(deadLetters).name("Kafka dead letters").uid(UID_DEAD_LETTER_SINK);
    }
}

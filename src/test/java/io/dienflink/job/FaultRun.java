package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.GoldenCases;
import io.dienflink.verify.CatchUp;
import io.dienflink.verify.RunVerifier;
import io.dienflink.verify.ScoreWatcher;
import io.dienflink.verify.VerifyReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fault-injection run: its own topics, consumer group and transactional ids (so that the
 * checker, which reads the topics from the start, sees this run only), the job settings every
 * scenario shares, a watcher of the scores topic that times recovery, and the final check.
 */
final class FaultRun implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FaultRun.class);
    static final String MODEL = GoldenCases.bundleDir("official").toString();
    /** The name the scores sink's writers report their start under ({@link FaultySink.Faults#writersCreated}). */
    static final String SCORES_SINK = "scores";

    final String scenario;
    final DeliveryGuarantee guarantee;
    final String bootstrapServers;
    final String id;
    final Topics topics;
    private final ScoreWatcher watcher;
    private final long began = System.currentTimeMillis();
    private int warmUps;
    /** Every job the run started: close() cancels those still running, so a failed run frees its slots. */
    private final List<JobClient> jobs = new CopyOnWriteArrayList<>();

    /**
     * @param topicCreator creates the run's topics on the broker the job will use
     */
    FaultRun(String scenario, DeliveryGuarantee guarantee, String bootstrapServers, TopicCreator topicCreator) throws Exception {
        this.scenario = scenario;
        this.guarantee = guarantee;
        this.bootstrapServers = bootstrapServers;
        this.id = scenario + "-" + (guarantee == DeliveryGuarantee.EXACTLY_ONCE ? "eo" : "alo");
        this.topics = Topics.prefixed(id);
        topicCreator.create(topics.all());
        this.watcher = new ScoreWatcher(bootstrapServers, topics.scores(), id + "-watcher",
                guarantee == DeliveryGuarantee.EXACTLY_ONCE);
    }

    /** Creates topics on a broker. */
    interface TopicCreator {
        void create(List<String> names) throws Exception;
    }

    /**
     * The job settings of the run: its topics and ids, the delivery guarantee, 500 ms checkpoints,
     * fast restarts, checkpoints kept on cancellation (the resume scenario restarts from one).
     */
    void settings(Configuration conf) {
        conf.set(DienJobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
        conf.set(DienJobOptions.CLICKS_TOPIC, topics.clicks());
        conf.set(DienJobOptions.REQUESTS_TOPIC, topics.requests());
        conf.set(DienJobOptions.SCORES_TOPIC, topics.scores());
        conf.set(DienJobOptions.DEAD_LETTER_TOPIC, topics.deadLetters());
        conf.set(DienJobOptions.GROUP_ID, id);
        conf.set(DienJobOptions.TRANSACTIONAL_ID_PREFIX, id);
        conf.set(DienJobOptions.DELIVERY_GUARANTEE, guarantee.name());
        conf.set(DienJobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        // FaultInjectionITCase's cluster runs the changelog state backend, which restores only in
        // CLAIM mode (DienScoringJob.changelogDefaults); each run starts from a snapshot once.
        conf.set(StateRecoveryOptions.RESTORE_MODE, RecoveryClaimMode.CLAIM);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 50);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        if (!conf.contains(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION)) {
            conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                    ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        }
    }

    /**
     * Settings of a side job on the run's input: its own output topics, group and transactional ids,
     * so that its scores do not count as the run's (the rescaling scenario restores one savepoint twice).
     */
    void sideSettings(Configuration conf, String side) {
        settings(conf);
        conf.set(DienJobOptions.SCORES_TOPIC, id + "-" + side + "-scores");
        conf.set(DienJobOptions.DEAD_LETTER_TOPIC, id + "-" + side + "-dead-letters");
        conf.set(DienJobOptions.GROUP_ID, id + "-" + side);
        conf.set(DienJobOptions.TRANSACTIONAL_ID_PREFIX, id + "-" + side);
    }

    /** The output topics of {@link #sideSettings}. */
    List<String> sideTopics(String side) {
        return List.of(id + "-" + side + "-scores", id + "-" + side + "-dead-letters");
    }

    /**
     * Waits until the consumer group of a job on this run's input has committed (on checkpoints)
     * every click and request sent so far: the job has applied everything ({@link CatchUp}; the
     * checker expects a dead letter for each malformed record it sends to wake idle fetchers).
     */
    void awaitCaughtUp(String groupId) throws Exception {
        if (!CatchUp.await(bootstrapServers, topics, groupId, Duration.ofMinutes(2))) {
            throw new AssertionError("group " + groupId + " did not catch up with " + topics);
        }
    }

    /** The run's validated job settings, as the checker takes them. */
    DienJobConfig config() {
        Configuration conf = new Configuration();
        conf.set(DienJobOptions.MODEL_PATH, MODEL);
        settings(conf);
        return DienJobConfig.from(conf);
    }

    /** The run's seeded traffic, not yet started; {@code durationMs} paces it. */
    FaultTraffic traffic(long seed, long durationMs) {
        return new FaultTraffic(bootstrapServers, topics, id, seed, durationMs);
    }

    /**
     * Starts the run's job on the MiniCluster of the calling test class.
     *
     * @param restoreFrom a savepoint or retained checkpoint, or null
     * @param settings the job settings ({@link #settings}, {@link #sideSettings} and overrides)
     * @param scoreFaults faults armed for the scores sink's writers
     * @param deadLetterFaults faults armed for the dead-letter sink's writers
     */
    JobClient start(Path checkpoints, String restoreFrom, Consumer<Configuration> settings, List<String> scoreFaults,
                    List<String> deadLetterFaults) throws Exception {
        JobClient job = KafkaJobFixture.startJob(bootstrapServers, MODEL, restoreFrom, checkpoints, id, settings,
                config -> job(config, scoreFaults, deadLetterFaults));
        log("job " + job.getJobID() + (restoreFrom == null ? " started" : " started from " + restoreFrom));
        jobs.add(job);
        return job;
    }

    /** The same without faults. */
    JobClient start(Path checkpoints, String restoreFrom, Consumer<Configuration> settings) throws Exception {
        return start(checkpoints, restoreFrom, settings, List.of(), List.of());
    }

    /** The Kafka job with the scores sink recording its writers' starts and carrying {@code scoreFaults}. */
    DienScoringJob job(DienJobConfig config, List<String> scoreFaults, List<String> deadLetterFaults) {
        return DienScoringJob.forKafka(config).withSinks(
                s -> FaultySink.wrap(s, SCORES_SINK + "/" + config.groupId(), scoreFaults.toArray(String[]::new)),
                d -> FaultySink.wrap(d, "dead-letters/" + config.groupId(), deadLetterFaults.toArray(String[]::new)));
    }

    /**
     * Recovery time of a fault: from {@code faultAt} to the moment the first score written after it
     * shows up on the scores topic (exactly-once: committed). "Written after it" means by a scores
     * writer started after the fault when the fault restarts the job, so that scores the failing
     * attempt still had in flight do not count; else any score scored after the fault. Logs the
     * parsable line {@code fault scenario=.. point=.. guarantee=.. recovery_ms=..} and returns the time.
     */
    long recovery(String point, long faultAt, boolean restartsJob) throws InterruptedException {
        return recovery(point, faultAt, restartsJob, 0);
    }

    /** The same, with {@code notCountedMs} of test steps between the fault and the restart taken off. */
    long recovery(String point, long faultAt, boolean restartsJob, long notCountedMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            long threshold = faultAt;
            if (restartsJob) {
                threshold = FaultySink.Faults.writersCreated(SCORES_SINK + "/" + id).stream()
                        .filter(t -> t >= faultAt).findFirst().orElse(Long.MAX_VALUE);
            }
            long after = threshold;
            var first = watcher.first(s -> s.scoredAtMs() >= after);
            if (first.isPresent()) {
                long ms = first.get().observedAtMs() - faultAt - notCountedMs;
                // one line per fault, for docs/reliability.md
                String line = "fault scenario=" + scenario + " point=" + point + " guarantee=" + guarantee
                        + " recovery_ms=" + ms;
                LOG.info(line);
                System.out.println(line);
                log("recovered from " + point);
                return ms;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no score after fault " + point + " of " + id + " within 2 minutes");
    }

    /**
     * Sends one valid request and waits for its score: the job is up and scoring, so traffic started
     * next flows while the job runs rather than into the backlog of a job still starting (and a
     * fault armed for "mid-stream" lands mid-stream).
     */
    void awaitScoring() throws Exception {
        String requestId = id + "-warm-up-" + warmUps++;
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            byte[] request = AvroMessages.encode(new AdRequest(requestId, 1L, Instant.now(), List.of(new Candidate(1L, 1L))));
            producer.send(new ProducerRecord<>(topics.requests(), UserKeys.key(1), request)).get();
        }
        if (watcher.await(0, s -> s.requestId().equals(requestId), Duration.ofMinutes(2)).isEmpty()) {
            throw new AssertionError("job of " + id + " not scoring after 2 minutes");
        }
        log("scoring");
    }

    /** Prints a step of the run with the seconds since the run began (test loggers are silenced). */
    void log(String step) {
        System.out.printf("run %s: %s at %.1f s%n", id, step, (System.currentTimeMillis() - began) / 1000.0);
    }

    /**
     * The checker over the whole run, with a probe per user (each user's final window), after the
     * traffic is done and the job has caught up; fails the test on any violation and checks the run was not trivially small.
     */
    VerifyReport verify() throws Exception {
        log("traffic done");
        // The checker's probes go out once: only after the job has applied every click can a probe
        // not overtake one of its user's clicks still in flight (another topic) and be a false alarm.
        awaitCaughtUp(id);
        log("caught up, checking");
        VerifyReport report = RunVerifier.verify(config(), new RunVerifier.Options(true, Duration.ofSeconds(90)));
        String line = report.line() + " scenario=" + scenario + " guarantee=" + guarantee;
        LOG.info(line);
        System.out.println(line);
        assertThat(report.ok()).as(report.line() + report.violations()).isTrue();
        assertThat(report.requests()).as(line).isGreaterThan(FaultTraffic.REQUESTS / 2);
        assertThat(report.scored()).as(line).isEqualTo(report.requests());
        assertThat(report.malformed()).as(line).isPositive();
        assertThat(report.deadLetters()).as(line).isGreaterThanOrEqualTo(report.malformed());
        log("checked");
        return report;
    }

    /** The newest retained checkpoint of a job ({@code chk-N} with metadata), as a restore path. */
    static String latestCheckpoint(Path checkpoints, String jobId) throws Exception {
        try (var dirs = Files.list(checkpoints.resolve(jobId))) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("chk-"))
                    .filter(d -> Files.exists(d.resolve("_metadata")))
                    .max(Comparator.comparingLong(d -> Long.parseLong(d.getFileName().toString().substring(4))))
                    .orElseThrow(() -> new AssertionError("no retained checkpoint of job " + jobId + " in " + checkpoints))
                    .toUri().toString();
        }
    }

    @Override
    public void close() throws Exception {
        for (JobClient job : jobs) {
            if (!job.getJobStatus().get().isGloballyTerminalState()) {
                job.cancel().get();
            }
        }
        watcher.close();
    }
}

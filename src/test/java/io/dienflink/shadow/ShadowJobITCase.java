package io.dienflink.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.CtrScore;
import io.dienflink.avro.HistoryClick;
import io.dienflink.avro.ServingLog;
import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.job.DienScoringJob;
import io.dienflink.job.ShippedStateBackend;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.local.EmbeddedKafkaCluster;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import io.dienflink.verify.RecordedRun;
import io.dienflink.verify.RunVerifier;
import io.dienflink.verify.VerifyReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.client.program.ClusterClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scoring job with the shadow challenger and the serving log on (both shares 1.0) on a
 * MiniCluster with a real broker, over {@link RecordedRun}'s input (a retried click, a repeat
 * beyond the de-duplication window, malformed records): the serving path still verifies
 * ({@code verify}: nothing lost, nothing wrong), every served request has B's score (bundle
 * "torch": other T, dimensions and vocabularies than the serving "official"), equal to the model
 * core's windowed score over the window the serving log recorded, and a serving-log record equal to
 * the score served.
 */
class ShadowJobITCase {
    /** Two slots for the serving operators, two for the challenger's own slot-sharing group. */
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).setConfiguration(ShippedStateBackend.cluster()).build());

    private static EmbeddedKafkaCluster kafka;

    @TempDir
    Path checkpoints;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaCluster.start(null);
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"AT_LEAST_ONCE", "EXACTLY_ONCE"})
    void servingVerifiesAndEveryRequestHasItsShadowScoreAndItsLogRecord(String guarantee) throws Exception {
        boolean exactlyOnce = guarantee.equals("EXACTLY_ONCE");
        String name = exactlyOnce ? "shadow-eo" : "shadow";
        RecordedRun run = RecordedRun.write(kafka, name);
        String shadowTopic = name + "-ctr-scores-shadow";
        String logTopic = name + "-serving-log";
        JobClient job = startJob(run, guarantee, shadowTopic, logTopic, null);
        try {
            VerifyReport output = RunVerifier.verify(run.config(guarantee), new RunVerifier.Options(false, Duration.ofSeconds(120)));
            assertThat(output.ok()).as(output.line() + " " + output.violations()).isTrue();
            assertThat(output.scored()).isEqualTo(run.validRequests);
            VerifyReport probed = RunVerifier.verify(run.config(guarantee), new RunVerifier.Options(true, Duration.ofSeconds(120)));
            assertThat(probed.ok()).as(probed.line() + " " + probed.violations()).isTrue();
            assertThat(probed.windowsWrong()).isZero();

            Map<String, List<CtrScore>> served = read(run.config(guarantee).topics().scores(), CtrScore.class,
                    s -> s.getRequestId().toString(), Set.of(), Duration.ofSeconds(10));
            assertThat(served.size()).isGreaterThanOrEqualTo(run.validRequests + run.usersWithClicks());
            Map<String, List<CtrScore>> shadow = read(shadowTopic, CtrScore.class, s -> s.getRequestId().toString(),
                    served.keySet(), Duration.ofSeconds(60));
            Map<String, List<ServingLog>> log = read(logTopic, ServingLog.class, l -> l.getRequestId().toString(),
                    served.keySet(), Duration.ofSeconds(60));
            // share 1.0 and a queue far above the run: every request scored by B, none dropped
            assertThat(shadow.keySet()).isEqualTo(served.keySet());
            assertThat(log.keySet()).isEqualTo(served.keySet());
            if (exactlyOnce) { // no failure in the run: one of each, committed (read_committed)
                assertThat(shadow.values()).allSatisfy(l -> assertThat(l).hasSize(1));
                assertThat(log.values()).allSatisfy(l -> assertThat(l).hasSize(1));
            }

            DienModel b = DienModel.from(GoldenCases.bundle("torch"));
            DienScorer reference = b.newScorer();
            for (String id : served.keySet()) {
                ServingLog l = log.get(id).get(0);
                // the log holds what was served (at least once: a replayed request matches one of its scores)
                assertThat(served.get(id)).as(id).anySatisfy(s -> {
                    assertThat(l.getScores()).containsExactlyElementsOf(s.getScores().stream().map(c -> c.getCtr()).toList());
                    assertThat(l.getClicksApplied()).isEqualTo(s.getClicksApplied());
                    assertThat(l.getHistory()).hasSize(s.getHistoryLength());
                    assertThat(l.getModelFingerprint().toString()).isEqualTo(s.getModelFingerprint().toString());
                });
                // B's score: the model core's windowed score over that window, through the plain API
                InterestState state = reference.newState();
                for (HistoryClick c : l.getHistory()) {
                    state.append(reference, c.getItemId(), c.getCategoryId());
                }
                int n = l.getCandidates().size();
                long[] items = l.getCandidates().stream().mapToLong(c -> c.getItemId()).toArray();
                long[] categories = l.getCandidates().stream().mapToLong(c -> c.getCategoryId()).toArray();
                float[] expected = new float[n];
                state.score(reference, l.getUserId(), items, categories, n, Semantics.WINDOWED, expected);
                for (CtrScore s : shadow.get(id)) {
                    assertThat(s.getModelFingerprint().toString()).isEqualTo(b.fingerprint());
                    assertThat(s.getUserId()).isEqualTo(l.getUserId());
                    assertThat(s.getHistoryLength()).isEqualTo(Math.min(l.getHistory().size(), b.config().maxHistory()));
                    for (int i = 0; i < n; i++) {
                        assertThat(s.getScores().get(i).getItemId()).isEqualTo(items[i]);
                        assertThat(s.getScores().get(i).getCtr()).as("%s candidate %d", id, i)
                                .isCloseTo(expected[i], within(Reproducibility.TOLERANCE));
                    }
                }
            }
        } finally {
            job.cancel().get();
        }
    }

    /** Starts the job on the run's topics with both shares 1.0 and B = "torch", or {@code challenger} in B's place. */
    private JobClient startJob(RecordedRun run, String guarantee, String shadowTopic, String logTopic,
                               ShadowScorer challenger) throws Exception {
        Configuration conf = new Configuration();
        run.settings(guarantee).forEach(conf::setString);
        conf.set(DienJobOptions.SHADOW_MODEL, GoldenCases.bundleDir("torch").toString());
        conf.set(DienJobOptions.SHADOW_SHARE, 1.0);
        conf.set(DienJobOptions.LOG_SHARE, 1.0);
        conf.set(DienJobOptions.SHADOW_SCORES_TOPIC, shadowTopic);
        conf.set(DienJobOptions.SERVING_LOG_TOPIC, logTopic);
        conf.set(DienJobOptions.PARALLELISM, 2);
        conf.set(DienJobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        conf.set(DienJobOptions.REQUEST_INITIAL_OFFSET, DienJobOptions.InitialOffset.EARLIEST.name());
        conf.set(DienJobOptions.REQUEST_MAX_AGE, Duration.ZERO);
        DienJobConfig config = DienJobConfig.from(conf);
        assertThat(config.extraTopics()).containsExactly(shadowTopic, logTopic);
        kafka.createTopics(2, config.extraTopics());
        DienScoringJob.configure(conf, config);
        conf.addAll(DienScoringJob.rocksDbDefaults(conf));
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(conf);
        DienScoringJob job = DienScoringJob.forKafka(config);
        (challenger == null ? job : job.withChallenger(challenger)).addTo(env);
        return env.executeAsync("shadow and serving log " + shadowTopic);
    }

    /**
     * B slow (400 ms a request, one thread, a queue of 1) and failing on every second request it
     * takes: serving still verifies, the job never restarts, B scores only some requests.
     */
    @Test
    void aSlowFailingChallengerNeitherLosesNorDelaysServing(@InjectClusterClient ClusterClient<?> client) throws Exception {
        String guarantee = "AT_LEAST_ONCE";
        RecordedRun run = RecordedRun.write(kafka, "broken");
        String shadowTopic = "broken-ctr-scores-shadow";
        JobClient job = startJob(run, guarantee, shadowTopic, "broken-serving-log",
                new SlowFailingChallenger(GoldenCases.bundleDir("torch").toString(), 1, 1, 400, 2));
        try {
            VerifyReport probed = RunVerifier.verify(run.config(guarantee), new RunVerifier.Options(true, Duration.ofSeconds(120)));
            assertThat(probed.ok()).as(probed.line() + " " + probed.violations()).isTrue();
            assertThat(probed.scored()).isGreaterThanOrEqualTo(run.validRequests + run.usersWithClicks());
            Map<String, List<CtrScore>> served = read(run.config(guarantee).topics().scores(), CtrScore.class,
                    s -> s.getRequestId().toString(), Set.of(), Duration.ofSeconds(10));
            Map<String, List<CtrScore>> shadow = read(shadowTopic, CtrScore.class, s -> s.getRequestId().toString(),
                    Set.of(), Duration.ofSeconds(5));
            assertThat(served.keySet()).containsAll(shadow.keySet());
            assertThat(shadow.size()).as("B's scores of %d requests", served.size()).isLessThan(served.size());
            assertThat(job.getJobStatus().get()).isEqualTo(org.apache.flink.api.common.JobStatus.RUNNING);
            String restarts = "[]";
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (restarts.equals("[]") && System.nanoTime() < deadline) { // the REST API fetches metrics periodically
                restarts = new String(java.net.URI.create(client.getWebInterfaceURL() + "/jobs/" + job.getJobID()
                        + "/metrics?get=numRestarts").toURL().openStream().readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8).trim();
                Thread.sleep(500);
            }
            assertThat(restarts).as("the job's numRestarts").contains("\"value\":\"0\"");
        } finally {
            job.cancel().get();
        }
    }

    /**
     * The topic's records by request id, read from the beginning until every id of {@code expected}
     * is there and a poll brings nothing new, or the timeout.
     */
    private static <T extends SpecificRecordBase> Map<String, List<T>> read(String topic, Class<T> type,
            Function<T, String> id, Set<String> expected, Duration timeout) throws Exception {
        Properties p = kafka.clientProperties();
        p.put("group.id", "shadow-it-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed"); // exactly-once runs: what a consumer of the topics may see
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        Map<String, List<T>> out = new HashMap<>();
        // a ServingLog has no earlier schema to read: the generated class's own decoder (on this
        // branch's base, AvroMessages.decoder looked for schemas/v1/ServingLog.avsc and threw)
        org.apache.avro.message.BinaryMessageDecoder<T> decoder = type == ServingLog.class
                ? (org.apache.avro.message.BinaryMessageDecoder<T>) (Object) ServingLog.getDecoder()
                : AvroMessages.decoder(type);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            while (System.nanoTime() < deadline) {
                var records = c.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    T value = decoder.decode(r.value());
                    out.computeIfAbsent(id.apply(value), k -> new ArrayList<>()).add(value);
                }
                if (records.isEmpty() && !out.isEmpty() && out.keySet().containsAll(expected)) {
                    break;
                }
            }
        }
        return out;
    }
}

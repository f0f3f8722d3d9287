package io.dienflink.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.job.DienJobConfig;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.local.EmbeddedKafkaCluster;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.Semantics;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * How fast {@link RunVerifier} checks a run of {@value #USERS} users × {@value #CLICKS_PER_USER}
 * clicks and {@value #REQUESTS_PER_USER} requests of {@value #CANDIDATES} candidates each (100,000
 * requests) on the shipped demo bundle, written to an in-JVM broker as a correct job would. Prints
 * the verify time and scores verified per second. Not part of the test suite (tag
 * {@code benchmark}): {@code ./mvnw -B -o test -Dtest=VerifyThroughputBenchmark -Dgroups=benchmark
 * -DexcludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
class VerifyThroughputBenchmark {
    private static final int USERS = 2_000;
    private static final int CLICKS_PER_USER = 50;
    private static final int REQUESTS_PER_USER = 50;
    private static final int CANDIDATES = 10;

    @Test
    void verifies100kRequests() throws Exception {
        Path bundleDir = Path.of("bundles", "demo");
        ModelBundle bundle = ModelBundle.load(bundleDir);
        DienModel model = DienModel.from(bundle);
        long[] users = bundle.longs("vocab.user");
        long[] items = bundle.longs("vocab.item");
        long[] categories = bundle.longs("vocab.category");
        Topics topics = new Topics("bench-clicks", "bench-requests", "bench-scores", "bench-dead-letters");
        try (EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.start(null)) {
            kafka.createTopics(4, topics.all());
            write(kafka, topics, model, users, items, categories);
            Configuration conf = new Configuration();
            conf.setString("dien.kafka.bootstrap-servers", kafka.bootstrapServers());
            conf.setString("dien.topic.clicks", topics.clicks());
            conf.setString("dien.topic.requests", topics.requests());
            conf.setString("dien.topic.scores", topics.scores());
            conf.setString("dien.topic.dead-letters", topics.deadLetters());
            conf.setString("dien.model.path", bundleDir.toString());
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            for (int run = 0; run < 3; run++) {
                long t0 = System.nanoTime();
                long cpu0 = os.getProcessCpuTime();
                VerifyReport r = RunVerifier.verify(DienJobConfig.from(conf), new RunVerifier.Options(false, Duration.ofSeconds(5)));
                double seconds = (System.nanoTime() - t0) / 1e9;
                // CPU time too: on a shared machine the wall time says more about the neighbours than about verify
                double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
                assertThat(r.ok()).as(r.line() + r.violations()).isTrue();
                assertThat(r.scored()).isEqualTo((long) USERS * REQUESTS_PER_USER);
                System.out.printf("verify run %d: %d scores (%d candidates each, T = %d) in %.1f s wall (%.0f scores/s),"
                                + " %.1f s CPU incl. the in-JVM broker (%.0f scores per CPU-second), %d cores%n", run,
                        r.scored(), CANDIDATES, model.config().maxHistory(), seconds, r.scored() / seconds, cpuSeconds,
                        r.scored() / cpuSeconds, Runtime.getRuntime().availableProcessors());
            }
        }
    }

    /** Clicks, requests and the scores a correct job gives them (requests spread evenly over each user's clicks). */
    private static void write(EmbeddedKafkaCluster kafka, Topics topics, DienModel model, long[] users, long[] items,
                              long[] categories) throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        DienScorer scorer = model.newScorer();
        float[] ctr = new float[CANDIDATES];
        long now = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.trafficProducer(kafka.bootstrapServers(), new Properties())) {
            for (int u = 0; u < USERS; u++) {
                long user = users[1 + u % (users.length - 1)] + (u / (users.length - 1)) * 1_000_000_000L;
                byte[] key = UserKeys.key(user);
                InterestState state = scorer.newState();
                int applied = 0;
                for (int j = 0; j < REQUESTS_PER_USER; j++) {
                    int k = j * CLICKS_PER_USER / REQUESTS_PER_USER;
                    for (; applied < k; applied++) {
                        long item = items[1 + random.nextInt(items.length - 1)];
                        long category = categories[1 + random.nextInt(categories.length - 1)];
                        state.append(scorer, item, category);
                        producer.send(new ProducerRecord<>(topics.clicks(), key, AvroMessages.encode(ClickEvent.newBuilder()
                                .setEventId("c-" + user + "-" + applied).setUserId(user).setItemId(item).setCategoryId(category)
                                .setEventTime(Instant.ofEpochMilli(now)).build())));
                    }
                    long[] ci = new long[CANDIDATES];
                    long[] cc = new long[CANDIDATES];
                    List<Candidate> candidates = new ArrayList<>();
                    for (int i = 0; i < CANDIDATES; i++) {
                        ci[i] = items[1 + random.nextInt(items.length - 1)];
                        cc[i] = categories[1 + random.nextInt(categories.length - 1)];
                        candidates.add(new Candidate(ci[i], cc[i]));
                    }
                    String id = "r-" + user + "-" + j;
                    producer.send(new ProducerRecord<>(topics.requests(), key, AvroMessages.encode(AdRequest.newBuilder()
                            .setRequestId(id).setUserId(user).setEventTime(Instant.ofEpochMilli(now)).setCandidates(candidates)
                            .build())));
                    state.score(scorer, user, ci, cc, CANDIDATES, Semantics.STREAMING, ctr);
                    List<CandidateScore> scores = new ArrayList<>();
                    for (int i = 0; i < CANDIDATES; i++) {
                        scores.add(new CandidateScore(ci[i], ctr[i]));
                    }
                    producer.send(new ProducerRecord<>(topics.scores(), key, AvroMessages.encode(CtrScore.newBuilder()
                            .setRequestId(id).setUserId(user).setModelVersion(model.modelVersion())
                            .setModelFingerprint(model.fingerprint()).setScores(scores).setHistoryLength(state.windowLength())
                            .setClicksApplied(k).setRequestTime(Instant.ofEpochMilli(now))
                            .setScoredAt(Instant.ofEpochMilli(now)).build())));
                }
            }
        }
    }
}

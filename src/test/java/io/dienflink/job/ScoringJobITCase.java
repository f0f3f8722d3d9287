package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job against a real Kafka broker in this JVM and a Flink MiniCluster with RocksDB:
 * clicks and requests of many users, interleaved, with malformed records and a retried click mixed
 * in. Every score must equal the model core's result for the user's applied clicks at the golden
 * tolerance, every malformed record must be dead-lettered with its reason and bytes, and nothing may
 * be lost or duplicated.
 */
class ScoringJobITCase {
    private static final String BUNDLE = "official";
    private static final int USERS = 40;
    private static final int MAX_CANDIDATES = 8;
    /** The job and the model core run the same kernels: they agree to the JIT's last-ulp spread. */
    private static final double CTR_TOLERANCE = Reproducibility.TOLERANCE;

    private static final org.apache.flink.configuration.Configuration CLUSTER = ShippedStateBackend.cluster();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).setConfiguration(CLUSTER).build());

    @RegisterExtension
    static final KafkaJobFixture KAFKA = new KafkaJobFixture();

    @TempDir
    Path tmp;

    private record Sent(String topic, int partition, long offset, byte[] value, String reason) {}

    @Test
    void scoresMatchTheModelCoreAndBadInputIsDeadLettered() throws Exception {
        DienModel model = DienModel.from(GoldenCases.bundle(BUNDLE));
        long[] items = GoldenCases.bundle(BUNDLE).longs("vocab.item");
        long[] categories = GoldenCases.bundle(BUNDLE).longs("vocab.category");
        SplittableRandom rnd = new SplittableRandom(42);
        Map<Long, List<long[]>> appliedClicks = new HashMap<>();
        Map<String, long[][]> requests = new HashMap<>();
        List<Sent> malformed = new ArrayList<>();
        long now = System.currentTimeMillis();

        try (KafkaProducer<byte[], byte[]> producer = KAFKA.producer()) {
            int eventNo = 0;
            for (int round = 0; round < 18; round++) {
                for (long user = 1; user <= USERS; user++) {
                    byte[] key = UserKeys.key(user);
                    if (rnd.nextInt(4) != 0) {
                        long item = rnd.nextInt(10) == 0 ? 424242L : items[rnd.nextInt(items.length)];
                        long cat = categories[rnd.nextInt(categories.length)];
                        String id = "click-" + eventNo++;
                        send(producer, Topics.DEFAULT.clicks(), key, click(id, user, item, cat, now));
                        appliedClicks.computeIfAbsent(user, u -> new ArrayList<>()).add(new long[] {item, cat});
                        if (rnd.nextInt(15) == 0) { // a producer retry: the same event again
                            send(producer, Topics.DEFAULT.clicks(), key, click(id, user, item, cat, now));
                        }
                    }
                    if (rnd.nextInt(5) == 0) {
                        int n = 1 + rnd.nextInt(MAX_CANDIDATES);
                        long[][] cand = new long[2][n];
                        for (int i = 0; i < n; i++) {
                            cand[0][i] = items[rnd.nextInt(items.length)];
                            cand[1][i] = categories[rnd.nextInt(categories.length)];
                        }
                        String id = "req-" + user + "-" + round;
                        requests.put(id, cand);
                        send(producer, Topics.DEFAULT.requests(), key, request(id, user, now, cand));
                    }
                }
                // malformed input, mixed in
                malformed.add(sent(producer, Topics.DEFAULT.clicks(), new byte[] {9, 9, 9}, "undecodable"));
                malformed.add(sent(producer, Topics.DEFAULT.requests(),
                        request("too-big", 3, now, new long[2][MAX_CANDIDATES + 1]), "too_many_candidates"));
                if (round % 3 == 0) {
                    malformed.add(sent(producer, Topics.DEFAULT.clicks(), click("x" + round, 0, items[0], categories[0], now),
                            "missing_user_id"));
                    malformed.add(sent(producer, Topics.DEFAULT.clicks(), click("t" + round, 5, items[0], categories[0], 0),
                            "bad_event_time"));
                    malformed.add(sent(producer, Topics.DEFAULT.requests(), request("empty-" + round, 5, now, new long[2][0]),
                            "empty_candidates"));
                    malformed.add(sent(producer, Topics.DEFAULT.requests(), null, "undecodable"));
                }
            }
            producer.flush();
        }

        JobClient job = KAFKA.startJob(GoldenCases.bundleDir(BUNDLE).toString(), null, tmp.resolve("checkpoints"), "dien-itcase",
                conf -> {
                    conf.set(DienJobOptions.MAX_CANDIDATES, MAX_CANDIDATES);
                    conf.set(DienJobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
                });
        List<ConsumerRecord<byte[], byte[]>> scoreRecords;
        List<ConsumerRecord<byte[], byte[]>> deadRecords;
        Map<Long, Integer> finalHistory;
        try {
            scoreRecords = consume(Topics.DEFAULT.scores(), requests.size());
            deadRecords = consume(Topics.DEFAULT.deadLetters(), malformed.size());
            finalHistory = finalHistories(appliedClicks, model.config().maxHistory());
            // the job ran on the shipped state backend: its checkpoints wrote state changes to the changelog's storage
            assertThat(CLUSTER.get(DienScoringJob.CHANGELOG_BASE_PATH)).as("the changelog's storage").isNotNull();
            java.nio.file.Path changelog = java.nio.file.Path.of(java.net.URI.create(CLUSTER.get(DienScoringJob.CHANGELOG_BASE_PATH)));
            assertThat(changelog).as("the changelog's storage: the job ran without the changelog state backend").isDirectory();
            try (var files = java.nio.file.Files.walk(changelog)) {
                assertThat(files.filter(java.nio.file.Files::isRegularFile).count()).as("state-change files in " + changelog)
                        .isPositive();
            }
        } finally {
            job.cancel().get();
        }

        // Nothing lost at the end of a stream either: once the job has caught up, every user's window
        // holds all its clicks (each applied once), as probes sent after the traffic show.
        Map<Long, Integer> expectedHistory = new HashMap<>();
        appliedClicks.forEach((user, c) -> expectedHistory.put(user, Math.min(c.size(), model.config().maxHistory())));
        assertThat(finalHistory).isEqualTo(expectedHistory);

        // Every request scored exactly once, each score equal to the model core on the user's applied clicks.
        DienScorer scorer = model.newScorer();
        Map<String, Integer> seen = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : scoreRecords) {
            CtrScore s = AvroMessages.decoder(CtrScore.class).decode(r.value());
            seen.merge(s.getRequestId(), 1, Integer::sum);
            assertThat(r.key()).isEqualTo(UserKeys.key(s.getUserId()));
            long[][] cand = requests.get(s.getRequestId());
            List<long[]> history = appliedClicks.getOrDefault(s.getUserId(), List.of())
                    .subList(0, (int) s.getClicksApplied());
            assertThat(s.getHistoryLength()).isEqualTo(Math.min((int) s.getClicksApplied(), model.config().maxHistory()));
            InterestState state = scorer.newState();
            history.forEach(c -> state.append(scorer, c[0], c[1]));
            float[] expected = new float[cand[0].length];
            state.score(scorer, s.getUserId(), cand[0], cand[1], expected.length, Semantics.STREAMING, expected);
            assertThat(s.getScores()).hasSize(expected.length);
            for (int i = 0; i < expected.length; i++) {
                assertThat(s.getScores().get(i).getItemId()).isEqualTo(cand[0][i]);
                assertThat((double) s.getScores().get(i).getCtr()).as("request %s candidate %d", s.getRequestId(), i)
                        .isCloseTo(expected[i], within(CTR_TOLERANCE));
            }
            assertThat(s.getModelVersion()).isEqualTo("official-1000");
            assertThat(s.getModelFingerprint()).isEqualTo(model.fingerprint());
        }
        assertThat(seen.keySet()).containsExactlyInAnyOrderElementsOf(requests.keySet());
        assertThat(seen.values()).allMatch(n -> n == 1);

        // Every malformed record dead-lettered once, with its coordinates, reason and original bytes.
        Map<String, DeadLetter> byCoordinates = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : deadRecords) {
            DeadLetter d = AvroMessages.decoder(DeadLetter.class).decode(r.value());
            assertThat(byCoordinates.put(d.getSourceTopic() + "/" + d.getPartition() + "/" + d.getOffset(), d)).isNull();
        }
        assertThat(byCoordinates).hasSize(malformed.size());
        for (Sent m : malformed) {
            DeadLetter d = byCoordinates.get(m.topic() + "/" + m.partition() + "/" + m.offset());
            assertThat(d).as("dead letter for %s/%d/%d", m.topic(), m.partition(), m.offset()).isNotNull();
            assertThat(d.getReason()).isEqualTo(m.reason());
            assertThat(d.getPayload()).isEqualTo(ByteBuffer.wrap(m.value() == null ? new byte[0] : m.value()));
        }
    }

    private static RecordMetadata send(KafkaProducer<byte[], byte[]> producer, String topic, byte[] key, byte[] value)
            throws Exception {
        return producer.send(new ProducerRecord<>(topic, key, value)).get();
    }

    private static Sent sent(KafkaProducer<byte[], byte[]> producer, String topic, byte[] value, String reason) throws Exception {
        RecordMetadata md = send(producer, topic, UserKeys.key(99), value);
        return new Sent(topic, md.partition(), md.offset(), value, reason);
    }

    private static byte[] click(String id, long user, long item, long cat, long time) {
        return AvroMessages.encode(new ClickEvent(id, user, item, cat, Instant.ofEpochMilli(time)));
    }

    private static byte[] request(String id, long user, long time, long[][] cand) {
        List<Candidate> c = new ArrayList<>();
        for (int i = 0; i < cand[0].length; i++) {
            c.add(new Candidate(cand[0][i] == 0 ? 5L : cand[0][i], cand[1][i] == 0 ? 5L : cand[1][i]));
        }
        return AvroMessages.encode(new AdRequest(id, user, Instant.ofEpochMilli(time), c));
    }

    /**
     * Sends a probe request per user until each is scored against the user's full history (probes
     * can overtake clicks still in flight, so short answers are asked again, for up to a minute);
     * returns the longest history seen per user.
     */
    private static Map<Long, Integer> finalHistories(Map<Long, List<long[]>> applied, int maxHistory) throws Exception {
        Map<Long, Integer> longest = new HashMap<>();
        long[][] one = {{1L}, {1L}};
        try (KafkaProducer<byte[], byte[]> producer = KAFKA.producer();
             KafkaConsumer<byte[], byte[]> consumer = KAFKA.consumer("final", true)) {
            consumer.subscribe(List.of(Topics.DEFAULT.scores()));
            long deadline = System.currentTimeMillis() + 60_000;
            for (int attempt = 0; System.currentTimeMillis() < deadline; attempt++) {
                List<Long> open = applied.keySet().stream()
                        .filter(u -> longest.getOrDefault(u, -1) < Math.min(applied.get(u).size(), maxHistory)).toList();
                if (open.isEmpty()) {
                    break;
                }
                for (long user : open) {
                    send(producer, Topics.DEFAULT.requests(), UserKeys.key(user),
                            request("final-" + user + "-" + attempt, user, System.currentTimeMillis(), one));
                }
                long until = System.currentTimeMillis() + 2_000;
                while (System.currentTimeMillis() < until) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        CtrScore s = AvroMessages.decoder(CtrScore.class).decode(r.value());
                        if (s.getRequestId().startsWith("final-")) {
                            longest.merge(s.getUserId(), s.getHistoryLength(), Math::max);
                        }
                    }
                }
            }
        }
        return longest;
    }

    /** Reads the topic from the start until {@code expected} records arrived, then a little longer to catch extras. */
    private static List<ConsumerRecord<byte[], byte[]>> consume(String topic, int expected) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = KAFKA.consumer("itcase-" + topic, true)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 120_000;
            long quietUntil = Long.MAX_VALUE;
            while (System.currentTimeMillis() < Math.min(deadline, quietUntil)) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                if (out.size() >= expected && quietUntil == Long.MAX_VALUE) {
                    quietUntil = System.currentTimeMillis() + 2_000;
                }
            }
        }
        assertThat(out).as("records on " + topic).hasSizeGreaterThanOrEqualTo(expected);
        return out;
    }
}

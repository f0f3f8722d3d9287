package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.local.EmbeddedKafkaCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code generate} and {@code read-scores} against a real in-JVM broker, configured the way
 * {@code run} is: topics from {@code -Ddien.topic.*}, servers from {@code --bootstrap-servers}.
 */
class KafkaToolsCommandTest {
    private static EmbeddedKafkaCluster kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaCluster.start(null);
        kafka.createTopics(1, List.of("my-clicks", "my-requests", "my-scores", "tx-scores", "fill-clicks", "late-scores"));
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    @Test
    void generateWritesToTheConfiguredTopics() {
        CliRun r = CliRun.of("generate", "--bootstrap-servers", kafka.bootstrapServers(), "-Ddien.topic.clicks=my-clicks",
                "-Ddien.topic.requests=my-requests", "--clicks-per-second", "200", "--requests-per-second", "20",
                "--duration", "2s");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(count("my-clicks")).isGreaterThan(100);
        assertThat(count("my-requests")).isGreaterThan(10);
    }

    @Test
    void generateFillSendsKClicksOfEveryUserThenExits() throws Exception {
        CliRun r = CliRun.of("generate", "--bootstrap-servers", kafka.bootstrapServers(), "-Ddien.topic.clicks=fill-clicks",
                "--users", "40", "--fill-clicks-per-user", "3");
        assertThat(r.exit()).as(r.err()).isZero();
        Map<Long, Integer> perUser = new HashMap<>();
        var decoder = AvroMessages.decoder(ClickEvent.class);
        for (byte[] v : values("fill-clicks")) {
            perUser.merge(decoder.decode(v).getUserId(), 1, Integer::sum);
        }
        // users 0..39 of the synthetic world (ids 1000·(i+1)), 3 clicks each, nothing else
        assertThat(perUser).hasSize(40).containsKeys(1000L, 40_000L).allSatisfy((user, n) -> assertThat(n).isEqualTo(3));
    }

    @Test
    void readScoresLatencyPrintsPerSecondRowsAndASummary() throws Exception {
        Properties p = kafka.clientProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        long sent = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < 20; i++) {
                // requested 1.5 s before they were written: every latency is at least 1,500 ms
                CtrScore s = CtrScore.newBuilder(score("late-" + i)).setRequestTime(Instant.ofEpochMilli(sent - 1_500)).build();
                producer.send(new ProducerRecord<>("late-scores", AvroMessages.encode(s))).get();
            }
        }
        CliRun r = CliRun.of("read-scores", "--bootstrap-servers", kafka.bootstrapServers(), "-Ddien.topic.scores=late-scores",
                "--from-beginning", "--latency", "--duration", "3s");
        long upper = System.currentTimeMillis() - sent + 1_500;
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo(Timeline.HEADER);
        assertThat(lines).hasSize(4); // the header and one row per second
        long scores = lines.stream().skip(1).mapToLong(l -> Long.parseLong(l.split(",")[2])).sum();
        assertThat(scores).isEqualTo(20);
        Matcher m = Pattern.compile("latency seconds=(\\d+) scores=20 p50_ms_median=(\\d+) p99_ms_median=(\\d+) "
                + "p99_ms_worst=(\\d+) max_ms=(\\d+)").matcher(r.err());
        assertThat(m.find()).as(r.err()).isTrue();
        assertThat(Long.parseLong(m.group(5))).isBetween(1_500L, upper);
        assertThat(Long.parseLong(m.group(2))).isBetween(1_500L, upper);
    }

    @Test
    void generateExitsNonZeroWhenKafkaRejectsRecords() {
        // every record is larger than the producer may send: each send fails
        CliRun r = CliRun.of("generate", "--bootstrap-servers", kafka.bootstrapServers(), "-Ddien.topic.clicks=my-clicks",
                "-Ddien.topic.requests=my-requests", "-Ddien.kafka.client.max.request.size=16",
                "--clicks-per-second", "50", "--requests-per-second", "5", "--duration", "1s");
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("error: Kafka did not accept");
    }

    @Test
    void readScoresReadsTheConfiguredTopic() throws Exception {
        Properties p = kafka.clientProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            CtrScore s = CtrScore.newBuilder().setRequestId("req-7").setUserId(7).setModelVersion("v").setModelFingerprint("f")
                    .setScores(List.of(new CandidateScore(3L, 0.25f))).setHistoryLength(2).setClicksApplied(5)
                    .setRequestTime(Instant.ofEpochMilli(1)).setScoredAt(Instant.ofEpochMilli(2)).build();
            producer.send(new ProducerRecord<>("my-scores", AvroMessages.encode(s))).get();
        }
        CliRun r = CliRun.of("read-scores", "--bootstrap-servers", kafka.bootstrapServers(), "-Ddien.topic.scores=my-scores",
                "--from-beginning", "--limit", "1");
        assertThat(r.exit()).as(r.err()).isZero();
        // clicks_applied is what makes a printed score checkable by hand against the clicks topic
        assertThat(r.out()).contains("\"request_id\": \"req-7\"").contains("0.25").contains("\"clicks_applied\": 5");
    }

    @Test
    void readScoresReadsOnlyCommittedScoresOfAnExactlyOnceJob() throws Exception {
        Properties p = kafka.clientProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("transactional.id", "read-scores-test");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx-scores", AvroMessages.encode(score("aborted")))).get();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx-scores", AvroMessages.encode(score("committed")))).get();
            producer.commitTransaction();
        }
        CliRun r = CliRun.of("read-scores", "--bootstrap-servers", kafka.bootstrapServers(), "-Ddien.topic.scores=tx-scores",
                "-Ddien.delivery-guarantee=EXACTLY_ONCE", "--from-beginning", "--limit", "1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"request_id\": \"committed\"").doesNotContain("aborted");
    }

    private static CtrScore score(String requestId) {
        return CtrScore.newBuilder().setRequestId(requestId).setUserId(7).setModelVersion("v").setModelFingerprint("f")
                .setScores(List.of(new CandidateScore(3L, 0.25f))).setHistoryLength(2)
                .setRequestTime(Instant.ofEpochMilli(1)).setScoredAt(Instant.ofEpochMilli(2)).build();
    }

    @Test
    void missingServersAreAnInputError() {
        CliRun r = CliRun.of("read-scores", "--limit", "1");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("error: dien.kafka.bootstrap-servers: is required");
    }

    private static int count(String topic) {
        return values(topic).size();
    }

    private static List<byte[]> values(String topic) {
        Properties p = kafka.clientProperties();
        p.put("group.id", "count-" + topic);
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        List<byte[]> out = new java.util.ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long end = System.currentTimeMillis() + 10_000;
            int empty = 0;
            while (System.currentTimeMillis() < end && empty < 5) {
                int got = 0;
                for (var rec : c.poll(Duration.ofMillis(500))) {
                    out.add(rec.value());
                    got++;
                }
                empty = got == 0 && !out.isEmpty() ? empty + 1 : 0;
            }
        }
        return out;
    }
}

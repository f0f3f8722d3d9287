package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.GoldenCases;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fresh requests first: traffic keeps flowing while the job is down for 30 s; after the restart no
 * request older than {@code dien.request.max-age} is scored, each of them is dead-lettered as
 * {@code expired}, and every request has its score or its expired dead letter.
 */
class FreshRequestsITCase {
    private static final Duration MAX_AGE = Duration.ofSeconds(1);
    private static final Duration DOWN = Duration.ofSeconds(30);

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).setConfiguration(ShippedStateBackend.cluster()).build());

    @RegisterExtension
    static final KafkaJobFixture KAFKA = new KafkaJobFixture();

    @TempDir
    Path tmp;

    /** Request id → event time of every request sent. */
    private final Map<String, Long> sent = new ConcurrentHashMap<>();

    @Test
    void afterAnOutageStaleRequestsExpireAndFreshOnesAreScored() throws Exception {
        String model = GoldenCases.bundleDir("official").toString();
        long[] items = GoldenCases.bundle("official").longs("vocab.item");
        long[] cats = GoldenCases.bundle("official").longs("vocab.category");
        AtomicBoolean running = new AtomicBoolean(true);
        Thread traffic = new Thread(() -> produce(items, cats, running), "traffic");

        JobClient first = start(model, null);
        awaitScore("warm-up", items, cats);
        traffic.start();
        Thread.sleep(8_000);
        String savepoint = first.stopWithSavepoint(false, tmp.resolve("sp").toUri().toString(),
                SavepointFormatType.CANONICAL).get();
        long downSince = System.currentTimeMillis();
        Thread.sleep(DOWN.toMillis());
        long restartedAt = System.currentTimeMillis();
        JobClient second = start(model, savepoint);
        Thread.sleep(12_000);
        running.set(false);
        traffic.join();
        awaitScore("final", items, cats); // everything before it on its user's partition has been processed
        second.cancel().get();

        Map<String, CtrScore> scores = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(Topics.DEFAULT.scores())) {
            CtrScore s = AvroMessages.decoder(CtrScore.class).decode(r.value());
            long age = s.getScoredAt().toEpochMilli() - s.getRequestTime().toEpochMilli();
            assertThat(age).as("age of request %s when scored", s.getRequestId()).isLessThanOrEqualTo(MAX_AGE.toMillis());
            scores.put(s.getRequestId(), s);
        }
        Map<String, DeadLetter> expired = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(Topics.DEFAULT.deadLetters())) {
            DeadLetter d = AvroMessages.decoder(DeadLetter.class).decode(r.value());
            assertThat(d.getReason()).isEqualTo("expired");
            AdRequest original = AvroMessages.decoder(AdRequest.class).decode(d.getPayload());
            expired.put(original.getRequestId(), d);
        }
        long madeWhileDown = 0;
        for (Map.Entry<String, Long> e : sent.entrySet()) {
            boolean scored = scores.containsKey(e.getKey());
            assertThat(scored || expired.containsKey(e.getKey())).as("request %s has an outcome", e.getKey()).isTrue();
            if (e.getValue() >= downSince && e.getValue() < restartedAt - MAX_AGE.toMillis()) {
                madeWhileDown++;
                assertThat(expired).as("request %s, made while the job was down", e.getKey()).containsKey(e.getKey());
            }
        }
        assertThat(madeWhileDown).as("requests made during the outage").isGreaterThan(500);
        long scoredAfterRestart = scores.values().stream()
                .filter(s -> s.getRequestTime().toEpochMilli() >= restartedAt).count();
        assertThat(scoredAfterRestart).as("fresh requests after the restart are scored").isGreaterThan(100);
    }

    private JobClient start(String model, String savepoint) throws Exception {
        return KAFKA.startJob(model, savepoint, tmp.resolve("checkpoints"), "dien-fresh-requests", conf -> {
            conf.set(DienJobOptions.REQUEST_MAX_AGE, MAX_AGE);
            conf.set(DienJobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        });
    }

    /** About 50 requests and 200 clicks a second over 40 users, until told to stop. */
    private void produce(long[] items, long[] cats, AtomicBoolean running) {
        try (KafkaProducer<byte[], byte[]> producer = KAFKA.producer()) {
            for (int n = 0; running.get(); n++) {
                long user = 1 + n % 40;
                long now = System.currentTimeMillis();
                producer.send(new ProducerRecord<>(Topics.DEFAULT.clicks(), UserKeys.key(user), AvroMessages.encode(
                        new ClickEvent("c" + n, user, items[n % items.length], cats[n % cats.length], Instant.ofEpochMilli(now)))));
                if (n % 4 == 0) {
                    String id = "r" + n;
                    sent.put(id, now);
                    producer.send(new ProducerRecord<>(Topics.DEFAULT.requests(), UserKeys.key(user), request(id, user, now,
                            items[n % items.length], cats[n % cats.length])));
                }
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static byte[] request(String id, long user, long time, long item, long cat) {
        return AvroMessages.encode(new AdRequest(id, user, Instant.ofEpochMilli(time), List.of(new Candidate(item, cat))));
    }

    /** Sends one request for every user and waits until all are scored (each sent again while unanswered). */
    private void awaitScore(String prefix, long[] items, long[] cats) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = KAFKA.producer();
             KafkaConsumer<byte[], byte[]> consumer = KAFKA.consumer(prefix, false)) {
            consumer.subscribe(List.of(Topics.DEFAULT.scores()));
            consumer.poll(Duration.ofMillis(500));
            java.util.Set<Long> open = new java.util.HashSet<>();
            for (long user = 1; user <= 40; user++) {
                open.add(user);
            }
            long deadline = System.currentTimeMillis() + 120_000;
            for (int attempt = 0; !open.isEmpty() && System.currentTimeMillis() < deadline; attempt++) {
                for (long user : open) {
                    String id = prefix + "-" + user + "-" + attempt;
                    long now = System.currentTimeMillis();
                    sent.put(id, now);
                    producer.send(new ProducerRecord<>(Topics.DEFAULT.requests(), UserKeys.key(user), request(id, user, now,
                            items[0], cats[0])));
                }
                producer.flush();
                long until = System.currentTimeMillis() + 2_000;
                while (System.currentTimeMillis() < until) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        CtrScore s = AvroMessages.decoder(CtrScore.class).decode(r.value());
                        if (s.getRequestId().startsWith(prefix + "-")) {
                            open.remove(s.getUserId());
                        }
                    }
                }
            }
            assertThat(open).as("users whose %s request was not scored", prefix).isEmpty();
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        List<ConsumerRecord<byte[], byte[]>> out = new java.util.ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = KAFKA.consumer("read-" + topic, true)) {
            consumer.subscribe(List.of(topic));
            long quietSince = System.currentTimeMillis();
            while (System.currentTimeMillis() - quietSince < 3_000) {
                var records = consumer.poll(Duration.ofMillis(200));
                records.forEach(out::add);
                if (!records.isEmpty()) {
                    quietSince = System.currentTimeMillis();
                }
            }
        }
        return out;
    }
}

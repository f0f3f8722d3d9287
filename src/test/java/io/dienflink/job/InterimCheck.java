package io.dienflink.job;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.UserKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** TEMPORARY stand-in for RunVerifier until it lands on h1: missing, duplicates, final windows. */
final class InterimCheck {
    static String check(FaultRun run) throws Exception {
        Map<Long, Set<String>> clicks = new HashMap<>();
        Set<String> valid = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(run, run.topics.clicks(), false)) {
            try {
                ClickEvent c = AvroMessages.decoder(ClickEvent.class).decode(r.value());
                if (!c.getEventId().isEmpty() && c.getUserId() > 0) {
                    clicks.computeIfAbsent(c.getUserId(), u -> new HashSet<>()).add(c.getEventId());
                }
            } catch (Exception e) {
                // malformed
            }
        }
        for (ConsumerRecord<byte[], byte[]> r : readAll(run, run.topics.requests(), false)) {
            try {
                AdRequest a = AvroMessages.decoder(AdRequest.class).decode(r.value());
                if (!a.getCandidates().isEmpty()) {
                    valid.add(a.getRequestId());
                }
            } catch (Exception e) {
                // malformed
            }
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", run.bootstrapServers);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (long u : clicks.keySet()) {
                producer.send(new ProducerRecord<>(run.topics.requests(), UserKeys.key(u), AvroMessages.encode(
                        new AdRequest("probe-" + u, u, Instant.now(), List.of(new Candidate(1L, 1L))))));
            }
        }
        Map<String, Integer> scored = new HashMap<>();
        Map<Long, Long> probes = new HashMap<>();
        long deadline = System.currentTimeMillis() + 60_000;
        List<ConsumerRecord<byte[], byte[]>> scores = List.of();
        while (System.currentTimeMillis() < deadline && probes.size() < clicks.size()) {
            scores = readAll(run, run.topics.scores(), true);
            probes.clear();
            for (ConsumerRecord<byte[], byte[]> r : scores) {
                CtrScore s = AvroMessages.decoder(CtrScore.class).decode(r.value());
                if (s.getRequestId().startsWith("probe-")) {
                    probes.put(s.getUserId(), s.getClicksApplied());
                }
            }
        }
        for (ConsumerRecord<byte[], byte[]> r : scores) {
            CtrScore s = AvroMessages.decoder(CtrScore.class).decode(r.value());
            scored.merge(s.getRequestId(), 1, Integer::sum);
        }
        long missing = valid.stream().filter(id -> !scored.containsKey(id)).count();
        long dup = scored.values().stream().filter(n -> n > 1).count();
        long windows = clicks.entrySet().stream()
                .filter(e -> probes.getOrDefault(e.getKey(), -1L) != e.getValue().size()).count();
        List<String> bad = new ArrayList<>();
        clicks.forEach((u, c) -> {
            if (probes.getOrDefault(u, -1L) != c.size() && bad.size() < 5) {
                bad.add("user " + u + " probe " + probes.get(u) + " distinct " + c.size());
            }
        });
        boolean ok = missing == 0 && windows == 0 && (run.guarantee != DeliveryGuarantee.EXACTLY_ONCE || dup == 0);
        return "interim requests=" + valid.size() + " missing=" + missing + " duplicates=" + dup + " windows_wrong=" + windows
                + " ok=" + ok + " " + bad;
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(FaultRun run, String topic, boolean committed) {
        Properties p = new Properties();
        p.put("bootstrap.servers", run.bootstrapServers);
        p.put("group.id", "interim-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", committed && run.guarantee == DeliveryGuarantee.EXACTLY_ONCE ? "read_committed" : "read_uncommitted");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            int empty = 0;
            while (empty < 5) {
                var recs = c.poll(Duration.ofMillis(300));
                if (recs.isEmpty()) {
                    empty++;
                } else {
                    empty = 0;
                }
                recs.forEach(out::add);
            }
        }
        return out;
    }
}

package io.dienflink.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.ClickEvent;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.Topics;
import io.dienflink.local.EmbeddedKafkaCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The traffic generator with the response model on a real broker: response clicks arrive on the
 * clicks topic as ordinary clicks, each on a candidate of an earlier request of the same user, with
 * an event time the model's delay after that request; the world's own clicks keep their number.
 */
class ResponseTrafficITCase {
    @Test
    void responseClicksFollowRequestsOnTheClicksTopic() throws Exception {
        try (EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.start(null)) {
            Topics topics = Topics.prefixed("resp");
            kafka.createTopics(2, topics.all());
            long minDelay = 200;
            long maxDelay = 600;
            TrafficGenerator g = new TrafficGenerator(kafka.bootstrapServers(), topics, SyntheticWorld.demo(50, 3),
                    new TrafficGenerator.Rates(100, 100, 5, 0, 200, 200));
            g.respond(new ResponseModel(Duration.ofMillis(minDelay), Duration.ofMillis(maxDelay), 3)).start();
            long deadline = System.currentTimeMillis() + 30_000;
            while (!(g.finished() && g.responseClicks() > 0) && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            Thread.sleep(maxDelay + 500); // the last responses
            g.close();

            List<AdRequest> requests = new ArrayList<>();
            List<ClickEvent> clicks = new ArrayList<>();
            var requestDecoder = AvroMessages.decoder(AdRequest.class);
            var clickDecoder = AvroMessages.decoder(ClickEvent.class);
            for (ConsumerRecord<byte[], byte[]> r : readAll(kafka, topics.requests())) {
                requests.add(requestDecoder.decode(r.value()));
            }
            for (ConsumerRecord<byte[], byte[]> r : readAll(kafka, topics.clicks())) {
                clicks.add(clickDecoder.decode(r.value()));
            }
            assertThat(requests).hasSize(200);
            List<ClickEvent> responses = clicks.stream().filter(c -> c.getEventId().startsWith("resp")).toList();
            assertThat(clicks.size() - responses.size()).as("the world's own clicks").isEqualTo(200);
            assertThat((long) responses.size()).isEqualTo(g.responseClicks()).isPositive();
            for (ClickEvent c : responses) {
                boolean answered = requests.stream().anyMatch(r -> r.getUserId() == c.getUserId()
                        && r.getCandidates().stream().anyMatch(k -> k.getItemId() == c.getItemId()
                                && k.getCategoryId() == c.getCategoryId())
                        && c.getEventTime().toEpochMilli() - r.getEventTime().toEpochMilli() >= minDelay
                        && c.getEventTime().toEpochMilli() - r.getEventTime().toEpochMilli() <= maxDelay);
                assertThat(answered).as("click %s answers a request", c).isTrue();
            }
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(EmbeddedKafkaCluster kafka, String topic) {
        Properties p = kafka.clientProperties();
        p.put("group.id", "check-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long quiet = System.currentTimeMillis();
            while (System.currentTimeMillis() - quiet < 3_000) {
                var batch = c.poll(Duration.ofMillis(200));
                if (!batch.isEmpty()) {
                    quiet = System.currentTimeMillis();
                }
                batch.forEach(out::add);
            }
        }
        return out;
    }
}

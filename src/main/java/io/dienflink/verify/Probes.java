package io.dienflink.verify;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.job.ScoreRequest;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.UserKeys;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probe requests: one per user with clicks, sent to the requests topic after every click has been
 * read, so that its score shows the user's state after all of them (the user's final window).
 */
final class Probes {
    private static final Logger LOG = LoggerFactory.getLogger(Probes.class);
    /** Request ids of probes start with this. */
    static final String PREFIX = "verify-probe-";

    private Probes() {}

    /**
     * Sends a probe for every user of {@code clicks}: request id {@code verify-probe-<user>-<nanos>},
     * keyed by user like any request, with the user's newest distinct click as its one candidate
     * (an item the model knows if the user's clicks are known), event time now.
     *
     * @return the probes as the job will see them
     * @throws Exception if Kafka did not take every probe
     */
    static List<ScoreRequest> send(String bootstrapServers, Properties client, String requestsTopic, ClickLog clicks)
            throws Exception {
        List<ScoreRequest> probes = new ArrayList<>();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.trafficProducer(bootstrapServers, client)) {
            for (Map.Entry<Long, UserClicks> e : clicks.users()) {
                long user = e.getKey();
                UserClicks u = e.getValue();
                long item = u.item(u.count() - 1);
                long category = u.category(u.count() - 1);
                long now = System.currentTimeMillis();
                String id = PREFIX + user + "-" + System.nanoTime();
                AdRequest request = AdRequest.newBuilder().setRequestId(id).setUserId(user)
                        .setEventTime(Instant.ofEpochMilli(now)).setCandidates(List.of(new Candidate(item, category)))
                        .build();
                sent.add(producer.send(new ProducerRecord<>(requestsTopic, UserKeys.key(user), AvroMessages.encode(request))));
                probes.add(new ScoreRequest(id, user, now, new long[] {item}, new long[] {category}));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) {
                f.get(); // a probe Kafka refused would be counted as a wrong window: fail instead
            }
        }
        LOG.info("Sent {} probe requests to {}", probes.size(), requestsTopic);
        return probes;
    }
}

package io.dienflink.verify;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.UserKeys;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Stands in for the job on the verifier's probes, so that the probe path can be tested without a
 * Flink job: reads the run's requests topic and answers each probe with the score a job gives after
 * the user's distinct clicks plus a shift (0: a correct job; -1: one that lost a click), the first
 * probe of each user with {@code firstShift} and any later one with {@code laterShift} (-1 then 0: a
 * job still reading the clicks topic when the first probe came).
 */
final class ProbeResponder implements AutoCloseable {
    private final RecordedRun run;
    private final int firstShift;
    private final int laterShift;
    private final java.util.Set<Long> probed = new java.util.HashSet<>();
    private final String servers;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Exception failure;

    ProbeResponder(RecordedRun run, String servers, int shift) {
        this(run, servers, shift, shift);
    }

    ProbeResponder(RecordedRun run, String servers, int firstShift, int laterShift) {
        this.run = run;
        this.servers = servers;
        this.firstShift = firstShift;
        this.laterShift = laterShift;
        this.thread = new Thread(this::respond, "probe-responder");
        thread.start();
    }

    private void respond() {
        BinaryMessageDecoder<AdRequest> decoder = AvroMessages.decoder(AdRequest.class);
        try (KafkaConsumer<byte[], byte[]> consumer = KafkaClients.reader(servers, new Properties(), "probe-responder",
                true, false);
             KafkaProducer<byte[], byte[]> producer = KafkaClients.trafficProducer(servers, new Properties())) {
            List<TopicPartition> partitions = consumer.partitionsFor(run.topics().requests()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                    AdRequest request;
                    try {
                        request = decoder.decode(r.value());
                    } catch (Exception notARequest) {
                        continue; // the run's malformed records
                    }
                    if (request.getRequestId().startsWith(Probes.PREFIX)) {
                        int shift = probed.add(request.getUserId()) ? firstShift : laterShift;
                        CtrScore s = run.score(request, run.distinctClicks(request.getUserId()) + shift);
                        producer.send(new ProducerRecord<>(run.topics().scores(), UserKeys.key(s.getUserId()),
                                AvroMessages.encode(s))).get();
                    }
                }
            }
        } catch (Exception e) {
            failure = e;
        }
    }

    @Override
    public void close() throws Exception {
        running = false;
        thread.join();
        if (failure != null) {
            throw failure;
        }
    }
}

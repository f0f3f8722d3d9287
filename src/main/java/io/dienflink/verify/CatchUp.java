package io.dienflink.verify;

import io.dienflink.kafka.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Waiting, before {@link RunVerifier} runs, until the job has applied every click and request sent:
 * the checker's probes go out once, and only then can a probe not overtake one of its user's clicks
 * still in flight on the other topic (a false alarm).
 *
 * <p>"Applied" is read from the job's consumer group, which the Kafka source commits on completed
 * checkpoints. An idle source fetcher commits late (it sits in a long poll), so while waiting one
 * {@link #malformedRecord()} a partition of the clicks and requests topics is sent every 200 ms to
 * wake it: the checker expects a dead letter for each, and they change no user's state.
 */
public final class CatchUp {
    private static final byte[] MALFORMED = {(byte) 0xC3, 0x01, 0x7F};

    private CatchUp() {}

    /** An undecodable record (an Avro single-object header with no record after it), which the job dead-letters as malformed; a new copy. */
    public static byte[] malformedRecord() {
        return MALFORMED.clone();
    }

    /**
     * Waits until consumer group {@code groupId} has committed, on every partition of the clicks and
     * requests topics of {@code topics}, the end offset those partitions had when this was called.
     *
     * @return true when caught up, false if {@code timeout} passed first
     * @throws ExecutionException if Kafka answers an admin request with an error
     */
    public static boolean await(String bootstrapServers, Topics topics, String groupId, Duration timeout)
            throws ExecutionException, InterruptedException {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (Admin admin = Admin.create(p); KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (TopicDescription d : admin.describeTopics(List.of(topics.clicks(), topics.requests()))
                    .allTopicNames().get().values()) {
                for (TopicPartitionInfo partition : d.partitions()) {
                    latest.put(new TopicPartition(d.name(), partition.partition()), OffsetSpec.latest());
                }
            }
            Map<TopicPartition, Long> target = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, o) -> target.put(tp, o.offset()));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
                if (target.entrySet().stream().allMatch(t -> t.getValue() == 0
                        || committed.containsKey(t.getKey()) && committed.get(t.getKey()).offset() >= t.getValue())) {
                    return true;
                }
                for (TopicPartition tp : target.keySet()) {
                    producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, MALFORMED));
                }
                Thread.sleep(200);
            }
            return false;
        }
    }
}

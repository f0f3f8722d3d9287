package io.dienflink.verify;

import io.dienflink.kafka.KafkaClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one topic from its beginning, partition by partition in offset order, without a consumer
 * group's offsets ({@link KafkaClients#reader}). {@link #readToEnd} stops at the end offsets taken
 * when it starts (under read_committed, the last stable offsets); {@link #poll} then goes on reading
 * whatever arrives later, for records the verifier is still waiting for.
 */
final class TopicReader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicReader.class);
    private static final Duration POLL = Duration.ofMillis(200);

    private final String topic;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions = new ArrayList<>();

    /**
     * @param readCommitted read only records of committed transactions (the output of an exactly-once job)
     */
    TopicReader(String bootstrapServers, Properties client, String topic, boolean readCommitted) {
        this.topic = topic;
        Properties settings = new Properties();
        settings.putAll(client);
        // Reading partition by partition to a known end, a fetch that reaches a partition's end must
        // not wait the default 500 ms for more data before the next partition can be fetched.
        settings.putIfAbsent("fetch.max.wait.ms", "20");
        this.consumer = KafkaClients.reader(bootstrapServers, settings, "dien-verify", true, readCommitted);
        List<PartitionInfo> infos = consumer.partitionsFor(topic);
        if (infos != null) {
            infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        }
        if (partitions.isEmpty()) {
            LOG.warn("Topic {} has no partitions (does it exist?); it is read as empty", topic);
        }
        // Partition order, so that a caller which needs topic order (partition, then offset) gets it.
        partitions.sort(Comparator.comparingInt(TopicPartition::partition));
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    String topic() {
        return topic;
    }

    /**
     * Hands every record up to the current end offsets to {@code sink}, partition 0 first and each
     * partition in offset order (Kafka returns a partition's records in order; records of different
     * partitions are buffered and handed over partition by partition).
     *
     * @return the number of records read
     */
    long readToEnd(Consumer<ConsumerRecord<byte[], byte[]>> sink) {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        long n = 0;
        for (TopicPartition tp : partitions) {
            // One partition at a time keeps the topic order without buffering the whole topic.
            consumer.pause(partitions);
            consumer.resume(List.of(tp));
            long last = end.getOrDefault(tp, 0L);
            while (consumer.position(tp) < last) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL).records(tp)) {
                    if (r.offset() < last) {
                        sink.accept(r);
                        n++;
                    } else {
                        // past the end taken at the start: rewind so poll() hands it over later
                        consumer.seek(tp, r.offset());
                        break;
                    }
                }
            }
        }
        consumer.resume(partitions);
        LOG.info("Read {} records of {} up to its end offsets {}", n, topic, end.values());
        return n;
    }

    /** Hands the records that arrived since the last read to {@code sink}, waiting up to one poll interval. */
    long poll(Consumer<ConsumerRecord<byte[], byte[]>> sink) throws InterruptedException {
        if (partitions.isEmpty()) {
            // a consumer with nothing assigned refuses to poll; a missing topic just stays empty
            Thread.sleep(POLL.toMillis());
            return 0;
        }
        ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
        records.forEach(sink);
        return records.count();
    }

    @Override
    public void close() {
        consumer.close();
    }
}

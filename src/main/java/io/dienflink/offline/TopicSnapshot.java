package io.dienflink.offline;

import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.KafkaClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a topic of Avro records ({@link AvroMessages}) from its beginning to the end offsets taken
 * when the read starts, partition 0 first and each partition in offset order, committing nothing.
 * Only records of committed transactions are read (the evaluate job writes in transactions under
 * exactly-once; records written without transactions are read as well). A record that does not
 * decode is counted and logged, never silently skipped.
 */
public final class TopicSnapshot {
    private static final Logger LOG = LoggerFactory.getLogger(TopicSnapshot.class);
    private static final Duration POLL = Duration.ofMillis(200);

    private TopicSnapshot() {}

    /** What a read saw: records handed over and records that did not decode as the expected type. */
    public record Counts(long records, long undecodable) {}

    /**
     * Hands every decodable record of {@code topic} up to its current end to {@code sink}.
     *
     * @throws IllegalArgumentException if the topic does not exist
     */
    public static <T extends SpecificRecordBase> Counts read(String bootstrapServers, Properties client, String topic,
                                                             Class<T> type, Consumer<T> sink) {
        Properties settings = new Properties();
        settings.putAll(client);
        // reaching one partition's end must not wait the default 500 ms before the next is fetched
        settings.putIfAbsent("fetch.max.wait.ms", "20");
        BinaryMessageDecoder<T> decoder = AvroMessages.decoder(type);
        long records = 0;
        long undecodable = 0;
        try (KafkaConsumer<byte[], byte[]> consumer =
                     KafkaClients.reader(bootstrapServers, settings, "dien-offline", true, true)) {
            List<PartitionInfo> infos = consumer.listTopics(Duration.ofSeconds(30)).get(topic);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalArgumentException("topic " + topic + " does not exist on " + bootstrapServers);
            }
            List<TopicPartition> partitions = new ArrayList<>();
            infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            partitions.sort(Comparator.comparingInt(TopicPartition::partition));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            for (TopicPartition tp : partitions) {
                consumer.pause(partitions);
                consumer.resume(List.of(tp));
                long last = end.getOrDefault(tp, 0L);
                while (consumer.position(tp) < last) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL).records(tp)) {
                        if (r.offset() >= last) {
                            break;
                        }
                        T value;
                        try {
                            value = decoder.decode(r.value());
                        } catch (Exception e) {
                            undecodable++;
                            if (undecodable <= 10) {
                                LOG.warn("{}-{} offset {}: not a {} record ({}); counted as undecodable", topic,
                                        tp.partition(), r.offset(), type.getSimpleName(), e.toString());
                            }
                            continue;
                        }
                        records++;
                        sink.accept(value);
                    }
                }
            }
        }
        LOG.info("Read {} records of {} ({} undecodable)", records, topic, undecodable);
        return new Counts(records, undecodable);
    }
}

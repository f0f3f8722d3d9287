package io.dienflink.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Byte-array producers and consumers for the project's tools (traffic generator, score readers),
 * built on the same pass-through client settings as the job ({@code dien.kafka.client.*}: SASL,
 * SSL, …), so a tool reaches every cluster the job reaches.
 */
public final class KafkaClients {
    private KafkaClients() {}

    /**
     * A producer tuned for bulk synthetic traffic (5 ms linger, 128 kB batches, leader acks).
     *
     * @param client pass-through client settings; they override nothing but the connection
     */
    public static KafkaProducer<byte[], byte[]> trafficProducer(String bootstrapServers, Properties client) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("bootstrap.servers", bootstrapServers);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("linger.ms", "5");
        p.put("batch.size", "131072");
        p.put("acks", "1");
        p.put("enable.idempotence", "false");
        return new KafkaProducer<>(p);
    }

    /**
     * A consumer that reads without joining a consumer group's offsets: a random group id and no
     * offset commits, so reading scores leaves nothing behind on the cluster.
     *
     * @param fromBeginning start at the earliest offset, else only new records
     * @param readCommitted only records of committed transactions (an exactly-once job's output)
     */
    public static KafkaConsumer<byte[], byte[]> reader(String bootstrapServers, Properties client, String name,
                                                       boolean fromBeginning, boolean readCommitted) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("bootstrap.servers", bootstrapServers);
        p.put("group.id", name + "-" + System.nanoTime());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", fromBeginning ? "earliest" : "latest");
        p.put("isolation.level", readCommitted ? "read_committed" : "read_uncommitted");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    /**
     * Creates topics (existing ones are left alone) with the given partition count, replication 1
     * and unlimited retention: for the local and embedded brokers of tests, demo and bench.
     */
    public static void createTopics(Properties admin, int partitions, List<String> names)
            throws InterruptedException, ExecutionException {
        try (Admin client = Admin.create(admin)) {
            List<NewTopic> topics = new ArrayList<>();
            for (String n : names) {
                topics.add(new NewTopic(n, partitions, (short) 1).configs(Map.of("retention.ms", "-1")));
            }
            try {
                client.createTopics(topics).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            awaitTopics(client, names, Duration.ofSeconds(60));
        }
    }

    /**
     * Waits until every partition of the named topics has a leader in the metadata the broker
     * serves. {@code createTopics} completes once the controller has committed the topics; a
     * broker may answer a metadata request with {@code UnknownTopicOrPartition} for a moment
     * after that, and a Kafka source whose enumerator starts in that moment fails the job.
     *
     * @throws IllegalStateException if a topic still has no leader for a partition at the deadline
     */
    public static void awaitTopics(Admin client, List<String> names, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                Map<String, TopicDescription> described = client.describeTopics(names).allTopicNames().get();
                boolean ready = described.values().stream()
                        .allMatch(d -> !d.partitions().isEmpty()
                                && d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
                if (ready) {
                    return;
                }
            } catch (ExecutionException e) {
                last = e;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("Kafka topics " + names + " have no leader for every partition after "
                + timeout.toSeconds() + " s" + (last == null ? "" : ": " + last.getCause()), last);
    }
}

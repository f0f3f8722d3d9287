package io.dienflink.local;

import io.dienflink.kafka.KafkaClients;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A single-node Kafka broker (KRaft, combined broker and controller) on this machine, inside this
 * JVM ({@link EmbeddedKafkaCluster}) or as its own process ({@link KafkaBrokerProcess}): the
 * settings both run with, and the client side both offer.
 */
public interface LocalBroker {
    /**
     * The broker settings of every local broker: replication factors and minimum in-sync replicas 1
     * (there is one node), no initial rebalance delay (a local run has one consumer per group and
     * should not wait for others), 2 partitions by default, and a 15-minute maximum transaction
     * timeout (exactly-once sinks ask for {@code transaction.timeout.ms} up to that).
     */
    static Map<String, String> singleNodeSettings() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("num.partitions", "2");
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("transaction.max.timeout.ms", "900000");
        return p;
    }

    /** {@code host:port} of the broker's client listener. */
    String bootstrapServers();

    /** Client properties pointing at this broker. */
    default Properties clientProperties() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return p;
    }

    /** Creates topics (existing ones are left alone) with the given partition count and replication 1. */
    default void createTopics(int partitions, List<String> names) throws InterruptedException, ExecutionException {
        KafkaClients.createTopics(clientProperties(), partitions, names);
    }
}

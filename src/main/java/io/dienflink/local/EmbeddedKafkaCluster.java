package io.dienflink.local;

import io.dienflink.kafka.KafkaClients;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) inside this JVM, with its
 * data in a directory that is deleted on close. For the embedded demo, the end-to-end benchmark and
 * the integration tests: nothing to install but a JDK.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaCluster.class);

    private final KafkaClusterTestKit cluster;

    private EmbeddedKafkaCluster(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /**
     * Formats and starts a broker.
     *
     * @param baseDirectory where the log directories go (a fresh temporary directory when null)
     */
    public static EmbeddedKafkaCluster start(Path baseDirectory) throws Exception {
        long t0 = System.nanoTime();
        TestKitNodes.Builder nodes = new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1);
        if (baseDirectory != null) {
            nodes.setBaseDirectory(baseDirectory);
        }
        KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(nodes.build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("num.partitions", "2")
                // large enough for exactly-once sinks, which ask for transaction.timeout.ms up to 15 min
                .setConfigProp("transaction.max.timeout.ms", "900000")
                .setDeleteOnClose(true)
                .build();
        try {
            kit.format();
            kit.startup();
            kit.waitForReadyBrokers();
        } catch (Exception e) {
            kit.close();
            throw e;
        }
        EmbeddedKafkaCluster c = new EmbeddedKafkaCluster(kit);
        LOG.info("Kafka broker (KRaft) ready at {} in {} ms", c.bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
        return c;
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** Client properties pointing at this broker. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return p;
    }

    /** Creates topics (existing ones are left alone) with the given partition count and replication 1. */
    public void createTopics(int partitions, List<String> names) throws InterruptedException, ExecutionException {
        KafkaClients.createTopics(clientProperties(), partitions, names);
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}

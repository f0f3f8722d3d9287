package io.dienflink.local;

import java.nio.file.Path;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) inside this JVM, with its
 * data in a directory that is deleted on close. For the embedded demo, the end-to-end benchmark and
 * the integration tests: nothing to install but a JDK.
 */
public final class EmbeddedKafkaCluster implements LocalBroker, AutoCloseable {
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
        KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes.build()).setDeleteOnClose(true);
        LocalBroker.singleNodeSettings().forEach(builder::setConfigProp);
        KafkaClusterTestKit kit = builder.build();
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

    @Override
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}

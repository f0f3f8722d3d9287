package io.dienflink.job;

import io.dienflink.local.KafkaBrokerProcess;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The broker goes away while the job runs and comes back on the same port with the same log
 * directory (a broker in a child JVM, {@link KafkaBrokerProcess}, stopped with SIGTERM): the job
 * recovers by itself, and the run passes the consistency checker as in {@link FaultInjectionITCase}.
 */
class BrokerRestartITCase {
    /** How long the broker stays down: longer than a checkpoint interval and the clients' first retries. */
    private static final long OUTAGE_MS = 3_000;

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).setConfiguration(ShippedStateBackend.cluster()).build());

    @TempDir
    static Path brokerDir;

    private static KafkaBrokerProcess broker;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBrokerProcess.create(brokerDir.resolve("kafka"), Map.of()).start();
        broker.waitUntilReady();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = DeliveryGuarantee.class, names = {"AT_LEAST_ONCE", "EXACTLY_ONCE"})
    void jobRecoversFromABrokerRestart(DeliveryGuarantee guarantee) throws Exception {
        try (FaultRun run = new FaultRun("broker-restart", guarantee, broker.bootstrapServers(),
                names -> broker.createTopics(2, names));
             FaultTraffic traffic = run.traffic(15, 8_000)) {
            run.start(tmp.resolve("checkpoints"), null, run::settings);
            run.awaitScoring();
            traffic.start();
            traffic.awaitProgress(0.3);
            broker.stop();
            // From the moment the broker is gone: during its controlled shutdown it still takes
            // writes, and a score accepted then is not a recovery.
            long faultAt = System.currentTimeMillis();
            run.log("broker stopped");
            Thread.sleep(OUTAGE_MS);
            broker.start();
            broker.waitUntilReady();
            run.log("broker back after " + (System.currentTimeMillis() - faultAt) + " ms down");
            traffic.awaitDone();
            run.recovery("broker-restart", faultAt, false);
            // whether the job rode the outage out or failed over: both are allowed, the report says which
            run.log("job restarts during the outage: " + FaultySink.Faults.writersCreated(FaultRun.SCORES_SINK + "/" + run.id)
                    .stream().filter(t -> t >= faultAt).count() / 2);
            run.verify();
        }
    }
}

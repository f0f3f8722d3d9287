package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.local.EmbeddedKafkaCluster;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} refuses settings that cannot keep the job's promise with exit code 2 and one line
 * naming the key and the fix, before anything is submitted (a real broker answers the
 * transaction-maximum question).
 */
class RunPreflightCommandTest {
    private static final String MODEL = "bundles/demo-untrained";
    private static EmbeddedKafkaCluster kafka;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaCluster.start(null); // transaction.max.timeout.ms = 900000
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    @Test
    void noCheckpointDirectory() {
        CliRun r = CliRun.of("run", "--bootstrap-servers", kafka.bootstrapServers(), "--model", MODEL);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: execution.checkpointing.dir: not set").contains("-Dexecution.checkpointing.dir=");
    }

    @Test
    void exactlyOnceWithACheckpointTimeoutTheTransactionCannotOutlive() {
        CliRun r = CliRun.of("run", "--bootstrap-servers", kafka.bootstrapServers(), "--model", MODEL,
                "-Dexecution.checkpointing.dir=" + tmp.toUri(), "-Ddien.delivery-guarantee=EXACTLY_ONCE",
                "-Ddien.kafka.transaction-timeout=5 min", "-Dexecution.checkpointing.timeout=5 min");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).startsWith("error: dien.kafka.transaction-timeout: PT5M is not longer than the checkpoint timeout");
    }

    @Test
    void exactlyOnceWithATransactionTimeoutOverTheBrokersMaximum() {
        CliRun r = CliRun.of("run", "--bootstrap-servers", kafka.bootstrapServers(), "--model", MODEL,
                "-Dexecution.checkpointing.dir=" + tmp.toUri(), "-Ddien.delivery-guarantee=EXACTLY_ONCE",
                "-Ddien.kafka.transaction-timeout=20 min");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: dien.kafka.transaction-timeout: PT20M exceeds the broker's "
                + "transaction.max.timeout.ms (900000 ms)");
    }
}

package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.local.EmbeddedKafkaCluster;
import io.dienflink.verify.RecordedRun;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code verify} in-process on hand-written runs against a real broker: its line, its stderr and its exit code. */
class VerifyCommandTest {
    private static EmbeddedKafkaCluster kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaCluster.start(null);
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    /** verify with the run's settings as -D pairs, the model from --model and servers from --bootstrap-servers. */
    private static CliRun verify(RecordedRun run, String guarantee) {
        List<String> args = new ArrayList<>(List.of("verify", "--no-probe", "--timeout", "1s"));
        for (Map.Entry<String, String> e : run.settings(guarantee).entrySet()) {
            switch (e.getKey()) {
                case "dien.kafka.bootstrap-servers" -> args.addAll(List.of("--bootstrap-servers", e.getValue()));
                case "dien.model.path" -> args.addAll(List.of("--model", e.getValue()));
                default -> args.add("-D" + e.getKey() + "=" + e.getValue());
            }
        }
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void aConsistentRunPrintsItsLineAndExitsZero() throws Exception {
        RecordedRun run = RecordedRun.write(kafka, "cli-ok");
        run.publish();
        CliRun r = verify(run, "EXACTLY_ONCE");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("verify requests=8 scored=8 missing=0 duplicates=0 wrong=0 dead_letters=4 expired=0 malformed=4"
                + " dead_letters_missing=0 dead_letters_doubled=0 unexpected=0 windows_wrong=0 ok=true" + System.lineSeparator());
        assertThat(r.err()).isEmpty();
    }

    @Test
    void anInconsistentRunPrintsItsViolationsAndExitsOne() throws Exception {
        RecordedRun run = RecordedRun.write(kafka, "cli-broken");
        String dropped = run.scores.remove(0).getRequestId();
        run.publish();
        CliRun r = verify(run, "AT_LEAST_ONCE");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("verify requests=8 scored=7 missing=1 duplicates=0 wrong=0 dead_letters=4 expired=0 malformed=4"
                + " dead_letters_missing=0 dead_letters_doubled=0 unexpected=0 windows_wrong=0 ok=false" + System.lineSeparator());
        assertThat(r.err()).contains("no score for request " + dropped);
    }

    @Test
    void missingServersAreAnInputError() {
        CliRun r = CliRun.of("verify", "--model", "bundles/none", "--no-probe");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("error: dien.kafka.bootstrap-servers: is required");
    }
}

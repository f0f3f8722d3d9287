package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Options that cannot work are refused before any process starts (exit 2, the option named). */
class ClusterBenchCommandTest {
    @TempDir
    Path tmp;

    private CliRun run(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "cluster-bench";
        all[1] = "--work-dir";
        all[2] = tmp.resolve("never-started").toString();
        System.arraycopy(args, 0, all, 3, args.length);
        CliRun r = CliRun.of(all);
        assertThat(tmp.resolve("never-started")).as("no cluster was started").doesNotExist();
        return r;
    }

    @Test
    void refusesOptionsThatCannotWork() {
        assertThat(run("--keep-savepoint").err()).contains("--keep-savepoint keeps a copy of --from-savepoint");
        assertThat(run("--from-savepoint", tmp.resolve("nothing").toString()).err()).contains("no savepoint there");
        assertThat(run("--request-users", "zipf").err()).contains("--request-users").contains("uniform or hot:K");
        assertThat(run("--users", "100", "--request-users", "hot:1000").err()).contains("more hot users than --users 100");
        assertThat(run("--upgrade-to", tmp.resolve("no-bundle").toString()).err()).contains("--upgrade-to").contains("no bundle there");
        assertThat(run("--rescale-to-taskmanagers", "-1").err()).contains("--rescale-to-taskmanagers must be at least 1");
        assertThat(run("--clicks-per-second", "-5").err()).contains("must not be negative (0: none)");
        assertThat(run("--rescale-to-taskmanagers", "4", "--after-restart", "0s").err()).contains("--after-restart must be positive");
        assertThat(run("--keep-savepoint").exit()).isEqualTo(2);
    }

    @Test
    void acceptsASavepointDirectoryOrItsUri() throws Exception {
        Path sp = Files.createDirectories(tmp.resolve("savepoint-1"));
        Files.write(sp.resolve("_metadata"), new byte[] {1});
        ClusterBenchCommand c = new ClusterBenchCommand();
        picocli.CommandLine cli = new picocli.CommandLine(c);
        cli.parseArgs("--from-savepoint", sp.toUri().toString(), "--keep-savepoint", "--request-users", "hot:10",
                "--rescale-to-taskmanagers", "4", "--upgrade-to", "bundles/demo-untrained");
        c.validate();
        assertThat(c.requestUsers.hot()).isEqualTo(10);
        cli.parseArgs("--from-savepoint", sp.toString(), "--job-setting", "execution.buffer-timeout=50ms",
                "--job-setting", "dien.kafka.client.fetch.min.bytes=65536");
        c.validate();
        assertThat(c.jobSettings).containsExactly(java.util.Map.entry("execution.buffer-timeout", "50ms"),
                java.util.Map.entry("dien.kafka.client.fetch.min.bytes", "65536"));
        // today's defaults
        cli.parseArgs();
        c.validate();
        assertThat(c.requestUsers).isEqualTo(io.dienflink.traffic.RequestUsers.UNIFORM);
        assertThat(c.rescaleTo).isZero();
        assertThat(c.upgradeTo).isNull();
        assertThat(c.clicksPerSecond).isEqualTo(5000);
        assertThat(c.requestsPerSecond).isEqualTo(200);
    }
}

package io.dienflink.cli;

import io.dienflink.local.Chaos;
import io.dienflink.local.JobJar;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.apache.flink.connector.base.DeliveryGuarantee;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chaos}: the job on the local cluster under traffic and real process kills, then checked ({@link Chaos}). */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = {"Runs the job on the local cluster (2 TaskManagers, parallelism 2; started in --work-dir if none runs there)",
                "with traffic for --duration, and at seeded random intervals SIGKILLs a TaskManager (and starts a new one),",
                "SIGKILLs and restarts the broker, or stops the job with a savepoint and starts it from it.",
                "Then checks the run (verify): prints the faults, recovery times (fault -> first new score) and the",
                "checker's line; exit code 1 on any violation."})
final class ChaosCommand implements Callable<Integer> {
    @CommandLine.Mixin
    LocalClusterCommand.WorkDir dir = new LocalClusterCommand.WorkDir();

    @Option(names = "--duration", converter = DurationConverter.class, defaultValue = "3m",
            description = "How long traffic flows and faults are injected. Default: ${DEFAULT-VALUE}")
    Duration duration;

    @Option(names = "--seed", defaultValue = "1", description = "Seeds the faults' kinds, times and victims. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--mean-interval", converter = DurationConverter.class, defaultValue = "20s",
            description = "Mean wait from a recovery to the next fault (exponential, at least 2 s). Default: ${DEFAULT-VALUE}")
    Duration meanInterval;

    @Option(names = "--delivery", defaultValue = "EXACTLY_ONCE",
            description = "AT_LEAST_ONCE or EXACTLY_ONCE. Default: ${DEFAULT-VALUE}")
    DeliveryGuarantee delivery;

    @Option(names = "--model", defaultValue = "bundles/demo", paramLabel = "DIR",
            description = "Model bundle (a path on this machine). Default: ${DEFAULT-VALUE}")
    Path model;

    @Option(names = "--job-jar", paramLabel = "JAR",
            description = "The jar to submit. Default: target/dien-flink-job.jar if it exists, else target/dien-flink.jar")
    Path jobJar;

    @Option(names = "--clicks-per-second", defaultValue = "100", description = "Default: ${DEFAULT-VALUE}")
    double clicksPerSecond;

    @Option(names = "--requests-per-second", defaultValue = "20", description = "Default: ${DEFAULT-VALUE}")
    double requestsPerSecond;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (delivery == DeliveryGuarantee.NONE) {
            throw new UsageException(java.util.List.of("--delivery: AT_LEAST_ONCE or EXACTLY_ONCE"));
        }
        Path jar;
        try {
            jar = JobJar.resolve(jobJar);
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
        Chaos.Result r = Chaos.run(new Chaos.Settings(dir.workDir, jar, model.toAbsolutePath(), duration, seed,
                meanInterval, delivery, clicksPerSecond, requestsPerSecond), spec.commandLine().getOut());
        return r.ok() ? 0 : 1;
    }
}

package io.dienflink.cli;

import io.dienflink.job.SavepointMigration;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Rewrites a savepoint for a new model bundle with the State Processor API (see docs/upgrades.md). */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Rebuilds every user's states in a savepoint under a new model bundle and writes a new savepoint",
                "(Flink State Processor API). Start the job from the output with the new bundle: nobody is rebuilt at run time.",
                "Other operators' state (Kafka offsets) is kept. Runs on a local MiniCluster, or on a cluster via `flink run`.",
                "A user whose stored state cannot be read is reset as the job resets it: left out, logged, counted in reset=."})
final class MigrateCommand implements Callable<Integer> {
    @Option(names = "--savepoint", required = true, paramLabel = "URI", description = "Savepoint to read (e.g. file:///savepoints/savepoint-1a2b3c).")
    String savepoint;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The new model bundle.")
    String model;

    @Option(names = "--output", required = true, paramLabel = "URI", description = "Where to write the new savepoint (must not exist).")
    String output;

    @Option(names = "--parallelism", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}")
    int parallelism;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SavepointMigration.Result r = SavepointMigration.migrate(savepoint, model, output, parallelism);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("migrate users=%d rebuilt=%d reset=%d seconds=%.1f users_per_s=%.0f output=%s%n", r.users(),
                r.rebuilt(), r.reset(), r.millis() / 1000.0, r.usersPerSecond(), output);
        out.flush();
        return 0;
    }
}

package io.dienflink.cli;

import io.dienflink.bootstrap.Population;
import io.dienflink.bootstrap.SyntheticBootstrap;
import io.dienflink.model.ModelBundle;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes a savepoint of N synthetic users with full histories (see docs/job.md, "Bootstrapping users"). */
@Command(name = "bootstrap", mixinStandardHelpOptions = true,
        description = {"Writes a savepoint of the scoring operator holding N synthetic users (the demo traffic's users",
                "for N, SyntheticWorld.demo(N, seed)), each with K clicks applied through the job's own click path under",
                "the bundle, last active now, no remembered click event ids. Start the job from it (flink run -s",
                "SAVEPOINT --claimMode CLAIM ... run --model DIR) to serve N users from the first second.",
                "Runs on a local MiniCluster (State Processor API, streaming execution). Prints one line:",
                "bootstrap users=... seconds=... users_per_s=... cpu_s=... savepoint_bytes=... bytes_per_user=... output=..."})
final class BootstrapCommand implements Callable<Integer> {
    @Option(names = "--users", required = true, paramLabel = "N", description = "Users 0 … N−1 (ids 1000·(i+1)).")
    int users;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The bundle the job will run.")
    Path model;

    @Option(names = "--output", required = true, paramLabel = "SAVEPOINT_DIR", description = "Savepoint directory to write (must not exist).")
    String output;

    @Option(names = "--parallelism", defaultValue = "2", description = "Writer subtasks. Default: ${DEFAULT-VALUE}")
    int parallelism;

    @Option(names = "--max-parallelism", paramLabel = "M",
            description = "Key groups of the savepoint. Default: the job's, which sets none: Flink's default (128 up to parallelism 85).")
    Integer maxParallelism;

    @Option(names = "--clicks-per-user", paramLabel = "K", description = "Clicks per user. Default: the bundle's maxHistory T + 10 (a full window).")
    Integer clicksPerUser;

    @Option(names = "--seed", defaultValue = "7", description = "The world's seed (generate's and demo's default). Default: ${DEFAULT-VALUE}")
    long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (users < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--users must be positive: " + users);
        }
        ModelBundle bundle = ModelBundle.load(model);
        int k = clicksPerUser != null ? clicksPerUser : bundle.config().maxHistory() + 10;
        int m = maxParallelism != null ? maxParallelism : SyntheticBootstrap.defaultMaxParallelism(parallelism);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        SyntheticBootstrap.Result r;
        try (ResultsOnStdout results = ResultsOnStdout.take(spec)) {
            r = SyntheticBootstrap.write(new SyntheticBootstrap.Settings(new Population(users, seed, k), model, output,
                    parallelism, m, System.currentTimeMillis()), bundle);
            // CPU time of this whole process (the MiniCluster runs in it): on a shared machine wall time
            // measures the neighbours too, CPU time the work
            double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
            results.out().printf("bootstrap users=%d clicks_per_user=%d seconds=%.1f users_per_s=%.0f cpu_s=%.1f "
                            + "users_per_cpu_s=%.0f savepoint_bytes=%d bytes_per_user=%.0f output=%s%n", r.users(), k,
                    r.millis() / 1000.0, r.usersPerSecond(), cpu, r.users() / Math.max(cpu, 1e-3), r.savepointBytes(),
                    r.bytesPerUser(), output);
            results.out().flush();
        }
        return 0;
    }
}

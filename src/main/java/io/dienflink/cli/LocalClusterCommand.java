package io.dienflink.cli;

import io.dienflink.local.LocalCluster;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code local-cluster up|status|down}: a Flink standalone cluster and a Kafka broker on this machine ({@link LocalCluster}). */
@Command(name = "local-cluster", mixinStandardHelpOptions = true,
        description = {"A Flink standalone session cluster (1 JobManager, N TaskManagers) and a Kafka broker (KRaft),",
                "each its own JVM on 127.0.0.1, with conf, logs, pid files, checkpoints and savepoints under --work-dir.",
                "Use Flink's CLI against it with `dien-flink flink ...` (same --work-dir)."},
        subcommands = {LocalClusterCommand.Up.class, LocalClusterCommand.Status.class, LocalClusterCommand.Down.class})
final class LocalClusterCommand implements Runnable {
    /** The default work directory of the local cluster, relative to the current directory. */
    static final String DEFAULT_WORK_DIR = "target/local-cluster";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    /** The work-directory option every subcommand shares (and `flink`, `chaos`). */
    static final class WorkDir {
        @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = DEFAULT_WORK_DIR,
                description = "The local cluster's directory. Default: ${DEFAULT-VALUE}")
        Path workDir;

        LocalCluster cluster() {
            return new LocalCluster(workDir);
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Starts the broker, the JobManager and the TaskManagers and waits until all are registered.")
    static final class Up implements Callable<Integer> {
        @CommandLine.Mixin
        WorkDir dir = new WorkDir();

        @Option(names = "--taskmanagers", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}")
        int taskManagers;

        @Option(names = "--slots", defaultValue = "2", description = "Task slots per TaskManager. Default: ${DEFAULT-VALUE}")
        int slots;

        @Option(names = "--rest-port", defaultValue = "8081",
                description = "Port of Flink's REST API and web UI (0: any free port). Default: ${DEFAULT-VALUE}")
        int restPort;

        @Option(names = "-D", paramLabel = "KEY=VALUE", mapFallbackValue = "",
                description = "A line of the cluster's Flink config.yaml, over the cluster's own (repeatable), e.g. "
                        + "-D state.changelog.enabled=true to measure another state backend configuration.")
        java.util.Map<String, String> flinkConfig = new java.util.LinkedHashMap<>();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            LocalCluster cluster = dir.cluster();
            cluster.up(new LocalCluster.Settings(taskManagers, slots, restPort, flinkConfig));
            Status.print(cluster, spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"Prints the registered TaskManagers, the REST/web UI address, the broker address and the processes.",
                    "Exit code 1 when the JobManager does not answer."})
    static final class Status implements Callable<Integer> {
        @CommandLine.Mixin
        WorkDir dir = new WorkDir();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return print(dir.cluster(), spec.commandLine().getOut()) ? 0 : 1;
        }

        /** Prints the status lines; true when the JobManager answers. */
        static boolean print(LocalCluster cluster, PrintWriter out) throws Exception {
            if (!java.nio.file.Files.exists(cluster.workDir().resolve("cluster.properties"))) {
                out.println("local-cluster not set up in " + cluster.workDir());
                out.flush();
                return false;
            }
            OptionalLong tms = cluster.registeredTaskManagers();
            out.println("taskmanagers=" + (tms.isPresent() ? tms.getAsLong() : "unreachable")
                    + " rest=" + cluster.restAddress() + " kafka=" + cluster.bootstrapServers());
            out.println("processes=" + cluster.runningProcesses() + " work_dir=" + cluster.workDir());
            out.flush();
            return tms.isPresent();
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stops every process (SIGTERM, SIGKILL after 30 s). Idempotent; the work directory is kept.")
    static final class Down implements Callable<Integer> {
        @CommandLine.Mixin
        WorkDir dir = new WorkDir();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            LocalCluster cluster = dir.cluster();
            cluster.down();
            spec.commandLine().getOut().println("local-cluster down: " + cluster.workDir());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}

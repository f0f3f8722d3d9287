package io.dienflink.cli;

import io.dienflink.local.FlinkCli;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * Flink's own CLI ({@code bin/flink}) against the local cluster: everything after {@code flink} (and
 * {@code --work-dir DIR}) is passed to {@code CliFrontend} unchanged.
 */
@Command(name = "flink",
        description = {"Flink's CLI against the local cluster (local-cluster up): e.g. `flink list`,",
                "`flink run -d JOB_JAR run --bootstrap-servers ... --model DIR`, `flink stop --savepointPath DIR JOB_ID`,",
                "`flink savepoint JOB_ID`, `flink cancel JOB_ID`. Options before the Flink action: --work-dir DIR."})
final class FlinkCommand implements Callable<Integer> {
    @CommandLine.Mixin
    LocalClusterCommand.WorkDir dir = new LocalClusterCommand.WorkDir();

    @Parameters(paramLabel = "ARGS", description = "Flink CLI arguments.")
    List<String> args = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (args.isEmpty() || args.equals(List.of("--help")) || args.equals(List.of("-h"))) {
            // this command's own usage; `flink <action> --help` still reaches Flink's CLI
            spec.commandLine().usage(spec.commandLine().getOut());
            return 0;
        }
        return FlinkCli.run(dir.cluster(), args, spec.commandLine().getOut()).exit();
    }
}

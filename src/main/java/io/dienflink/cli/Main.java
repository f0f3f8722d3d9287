package io.dienflink.cli;

import io.dienflink.model.BundleFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The single entry point of {@code dien-flink.jar}. Each feature is a subcommand; {@code <subcommand>
 * --help} describes it. Exit codes: 0 success, 1 bad input or bundle, 2 bad usage or settings that cannot
 * keep the job's guarantees.
 */
@Command(name = "dien-flink", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Real-time DIEN click-through-rate scoring on Apache Flink.",
        subcommands = {ScoreCommand.class, RunCommand.class, DemoCommand.class, BenchCommand.class, MigrateCommand.class,
                TrainCommand.class, GenerateCommand.class, ReadScoresCommand.class, VerifyCommand.class,
                BundleCommand.class,
                ModelBenchCommand.class, LocalClusterCommand.class, FlinkCommand.class, ChaosCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, also used by tests to run subcommands in-process. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        // `flink ...` hands everything after its own options to Flink's CLI as it is (-s, -d, -D...)
        cli.getSubcommands().get("flink").setStopAtPositional(true).setUnmatchedOptionsArePositionalParams(true);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof UsageException u) {
                u.lines.forEach(line -> cmd.getErr().println("error: " + line));
                return 2;
            }
            if (e instanceof BundleFormatException || e instanceof InputException) {
                cmd.getErr().println("error: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    /** A problem with the user's input that ends the command with exit code 1 and this message. */
    static final class InputException extends RuntimeException {
        InputException(String message) {
            super(message);
        }
    }

    /** Settings that cannot work: exit code 2, each problem on its own line naming the key and the fix. */
    static final class UsageException extends RuntimeException {
        final java.util.List<String> lines;

        UsageException(java.util.List<String> lines) {
            super(String.join("; ", lines));
            this.lines = lines;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"dien-flink " + (v == null ? "dev" : v)};
        }
    }
}

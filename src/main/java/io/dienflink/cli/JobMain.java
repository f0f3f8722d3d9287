package io.dienflink.cli;

import io.dienflink.model.BundleFormatException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The entry point of the job jar ({@code target/dien-flink-job.jar}), the artifact a Flink cluster runs:
 * {@code flink run dien-flink-job.jar [run] --model DIR ...} starts the scoring job and
 * {@code flink run dien-flink-job.jar migrate ...} rewrites a savepoint and
 * {@code flink run dien-flink-job.jar evaluate ...} starts the online evaluation job. Only {@code run},
 * {@code migrate} and {@code evaluate} are here: the other tools (demo, bench, train, ...) need what the job jar leaves out
 * (Flink's runtime, Kafka's test kit, ND4J) and live in the tool jar's {@link Main}.
 *
 * <p>Unlike {@link Main}, this never calls {@link System#exit}: Flink runs a job's main inside its
 * client or, in application mode (the Kubernetes Operator), inside the JobManager, where an exit would
 * end the JobManager. A failure is thrown instead, so that Flink reports it.
 */
@Command(name = "dien-flink-job", mixinStandardHelpOptions = true, versionProvider = JobMain.Version.class,
        description = "The dien-flink jobs for a Flink cluster: `run` (the default, scoring), `evaluate` (online evaluation) or `migrate`.",
        subcommands = {RunCommand.class, MigrateCommand.class, EvaluateJobCommand.class, CommandLine.HelpCommand.class})
public final class JobMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Runs a subcommand; without one, {@code run}.
     *
     * @throws JobFailedException when the command ends with a non-zero exit code (the reason is printed first)
     */
    public static void main(String[] args) {
        int code = commandLine().execute(withDefaultCommand(args));
        if (code != 0) {
            throw new JobFailedException(code);
        }
    }

    /** The arguments with {@code run} in front unless they start with a subcommand or a help/version flag. */
    public static String[] withDefaultCommand(String[] args) {
        if (args.length > 0 && (Arrays.asList("run", "migrate", "evaluate", "help", "-h", "--help", "-V", "--version")
                .contains(args[0]))) {
            return args;
        }
        String[] out = new String[args.length + 1];
        out[0] = "run";
        System.arraycopy(args, 0, out, 1, args.length);
        return out;
    }

    /** The configured command line, with the tool jar's exit codes: 1 bad input or bundle, 2 bad settings. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new JobMain());
        cli.setExecutionExceptionHandler(exitCodes());
        return cli;
    }

    /**
     * The exit codes shared by the job's and the tool's command lines: 2 for a {@link UsageException}
     * (its lines printed), 1 for a bad bundle, a bad input or any of {@code inputErrors} (the message
     * printed); anything else propagates.
     */
    @SafeVarargs
    static CommandLine.IExecutionExceptionHandler exitCodes(Class<? extends Exception>... inputErrors) {
        return (e, cmd, parsed) -> {
            if (e instanceof UsageException u) {
                u.lines.forEach(line -> cmd.getErr().println("error: " + line));
                return 2;
            }
            boolean input = e instanceof BundleFormatException || e instanceof InputException;
            for (Class<? extends Exception> c : inputErrors) {
                input |= c.isInstance(e);
            }
            if (input) {
                cmd.getErr().println("error: " + e.getMessage());
                return 1;
            }
            throw e;
        };
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = JobMain.class.getPackage().getImplementationVersion();
            return new String[] {"dien-flink-job " + (v == null ? "dev" : v)};
        }
    }

    /** The job's command failed; its reason was printed on standard error. */
    public static final class JobFailedException extends RuntimeException {
        private final int exitCode;

        JobFailedException(int exitCode) {
            super("dien-flink-job failed with exit code " + exitCode + " (the reason is printed above)");
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }
}

package io.dienflink.cli;

import io.dienflink.job.DienJobConfig;
import io.dienflink.verify.RunVerifier;
import io.dienflink.verify.VerifyReport;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Checks a run's four topics against the job's promises ({@link RunVerifier}). Stdout gets exactly
 * the report's line, so scripts can parse it; the violations go to stderr. Exit code 0 when the run
 * is consistent, 1 on any violation (or bad input).
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Checks a run: every valid request scored (exactly once under EXACTLY_ONCE), every score "
                + "recomputed with the model core, every invalid record dead-lettered with its reason, and (unless "
                + "--no-probe) every user's final window probed.",
                "Settings as for `run` (the same topics, dien.delivery-guarantee, dien.click.dedup-window, limits). "
                        + "Prints one `verify ...` line on stdout, violations on stderr; exit code 1 on any violation."})
final class VerifyCommand implements Callable<Integer> {
    /** Kafka servers, topics, guarantee, limits and client settings, as `run` takes them. */
    @CommandLine.Mixin
    JobSettings settings = new JobSettings();

    @Option(names = "--model", paramLabel = "DIR", description = "The run's model bundle, directory or zip (dien.model.path).")
    String model;

    @Option(names = "--no-probe", description = "Send no probe requests (the job is not running, or the topics must "
            + "not be written to).")
    boolean noProbe;

    @Option(names = "--timeout", converter = DurationConverter.class, defaultValue = "60s",
            description = "How long to wait for missing scores, dead letters and probe answers. Default: ${DEFAULT-VALUE}")
    Duration timeout;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DienJobConfig config = JobSettings.jobConfig(settings.configuration(model));
        VerifyReport report = RunVerifier.verify(config, new RunVerifier.Options(!noProbe, timeout));
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        report.violations().forEach(err::println);
        err.flush();
        out.println(report.line());
        out.flush();
        return report.ok() ? 0 : 1;
    }
}

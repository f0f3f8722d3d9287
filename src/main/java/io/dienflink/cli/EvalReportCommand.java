package io.dienflink.cli;

import io.dienflink.avro.ModelEval;
import io.dienflink.offline.EvalReport;
import io.dienflink.offline.EvalReportPlot;
import io.dienflink.offline.EvalReportText;
import io.dienflink.offline.TopicSnapshot;
import io.dienflink.offline.UpgradeRule;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Champion against challenger from the evaluate job's {@code model-eval} topic over a time range;
 * output format and exit codes: docs/evaluation-report.md.
 */
@Command(name = "eval-report", mixinStandardHelpOptions = true,
        description = {"Reads the evaluate job's model-eval topic and prints, per model over [--from, --to) of request time:",
                "minutes, labelled, positives, pooled log loss, calibration and normalized entropy, AUC (labelled-weighted mean",
                "of the minutes' AUCs and the pooled-histogram AUC); then champion against challenger: the AUC difference with",
                "its 95%% confidence interval (stratified over the minutes' paired DeLong estimates), the PSI, and a verdict",
                "line. --png draws it over time; --check applies the upgrade rule of docs/upgrades.md (exit 3 if it fails).",
                "Exit codes: 0 report printed, 1 no records in range or unknown fingerprint, 2 bad usage, 3 --check failed."})
final class EvalReportCommand implements Callable<Integer> {
    @CommandLine.Mixin
    JobSettings settings = new JobSettings();

    /**
     * The evaluate job's option for this topic (docs/evaluation.md), read from --config/-D so that one settings file
     * serves the jobs and the tools; --topic overrides it.
     */
    static final org.apache.flink.configuration.ConfigOption<String> TOPIC =
            org.apache.flink.configuration.ConfigOptions.key("dien.topic.model-eval").stringType().defaultValue("model-eval")
                    .withDescription("The topic EvalReport reads.");

    @Option(names = "--topic", description = "Default: dien.topic.model-eval of the settings, else model-eval.")
    String topic;

    @Option(names = "--from", paramLabel = "TIME", converter = TimeArgument.class,
            description = "First minute (inclusive): ISO-8601 instant, epoch ms, now-DURATION. Default: the earliest.")
    Instant from;

    @Option(names = "--to", paramLabel = "TIME", converter = TimeArgument.class,
            description = "End (exclusive), same forms. Default: after the latest.")
    Instant to;

    @Option(names = "--champion", paramLabel = "FP", description = "Champion fingerprint. Default: the champion with the most labelled scores in range.")
    String champion;

    @Option(names = "--challenger", paramLabel = "FP", description = "Challenger fingerprint. Default: the challenger with the most labelled scores in range.")
    String challenger;

    @Option(names = "--png", paramLabel = "FILE", description = "Draws both models' AUC per minute and the difference with its 95%% band.")
    Path png;

    @Option(names = "--minutes", description = "Also print one `minute ...` line per model and minute (to compare with evaluate on one minute's export).")
    boolean perMinute;

    @Option(names = "--check", description = "Apply the upgrade rule (docs/upgrades.md); exit 3 when a condition fails.")
    boolean check;

    @Option(names = "--min-minutes", defaultValue = "30", description = "Rule: minutes with a paired estimate. Default: ${DEFAULT-VALUE}")
    int minMinutes;

    @Option(names = "--min-labelled", defaultValue = "20000", description = "Rule: challenger's labelled scores. Default: ${DEFAULT-VALUE}")
    long minLabelled;

    @Option(names = "--auc-margin", defaultValue = "0", description = "Rule: the interval's low end must exceed -margin (0: better). Default: ${DEFAULT-VALUE}")
    double aucMargin;

    @Option(names = "--calibration", defaultValue = "0.9,1.1", split = ",", paramLabel = "LOW,HIGH",
            description = "Rule: challenger's calibration bounds. Default: ${DEFAULT-VALUE}")
    List<Double> calibration = new ArrayList<>();

    @Option(names = "--ne-tolerance", defaultValue = "0", description = "Rule: challenger NE <= champion NE + this. Default: ${DEFAULT-VALUE}")
    double neTolerance;

    @Option(names = "--psi-review", defaultValue = "0.25", description = "Rule: a PSI above this asks for a reason. Default: ${DEFAULT-VALUE}")
    double psiReview;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (calibration.size() != 2 || calibration.get(0) > calibration.get(1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--calibration takes LOW,HIGH with LOW <= HIGH");
        }
        if (from != null && to != null && !from.isBefore(to)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--from must be before --to");
        }
        JobSettings.Kafka kafka = settings.kafka();
        if (topic == null) {
            topic = settings.configuration().get(TOPIC);
        }
        List<ModelEval> records = new ArrayList<>();
        TopicSnapshot.Counts counts;
        EvalReport report;
        try {
            // only the range is kept: a month of minutes of two models, with their histograms, would be hundreds of MB
            counts = TopicSnapshot.read(kafka.bootstrapServers(), kafka.client(), topic, ModelEval.class, r -> {
                if ((from == null || !r.getMinute().isBefore(from)) && (to == null || r.getMinute().isBefore(to))) {
                    records.add(r);
                }
            });
            report = EvalReport.of(records, from, to, champion, challenger);
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        EvalReportText.lines(topic, counts, report, perMinute).forEach(out::println);
        EvalReport.Comparison c = report.comparison();
        if (c == null) {
            out.flush();
            return check ? 3 : 0;
        }
        if (png != null) {
            EvalReportPlot.write(c, png);
            spec.commandLine().getErr().println("plot " + png.toAbsolutePath());
        }
        int exit = 0;
        if (check) {
            UpgradeRule rule = new UpgradeRule(minMinutes, minLabelled, aucMargin, calibration.get(0), calibration.get(1),
                    neTolerance, psiReview);
            List<UpgradeRule.Check> checks = rule.apply(c);
            checks.forEach(k -> out.println(k));
            boolean pass = UpgradeRule.passes(checks);
            out.println("rule " + (pass ? "pass" : "fail"));
            exit = pass ? 0 : 3;
        }
        out.flush();
        return exit;
    }
}

package io.dienflink.cli;

import io.dienflink.avro.ServingLog;
import io.dienflink.offline.SampleExport;
import io.dienflink.offline.TopicSnapshot;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The labelled serving log as training examples in the official DIEN format; docs/evaluation-report.md. */
@Command(name = "export-samples", mixinStandardHelpOptions = true,
        description = {"Reads the labelled serving log (the evaluate job's serving-log-labelled topic) and writes one line per",
                "labelled candidate in the official DIEN training format (label, user, item, category, the window's items",
                "and categories as served), which `train --data FILE` and `evaluate --data FILE` read. Candidates labelled -1",
                "(not shown) and records without labels are skipped and counted. Ends with `export-samples records=...",
                "examples=... skipped_...=...` on stdout. Exit codes: 0 written, 1 missing topic or unwritable file, 2 bad usage."})
final class ExportSamplesCommand implements Callable<Integer> {
    @CommandLine.Mixin
    JobSettings settings = new JobSettings();

    /**
     * The evaluate job's option for this topic (docs/evaluation.md), read from --config/-D so that one settings file
     * serves the jobs and the tools; --topic overrides it.
     */
    static final org.apache.flink.configuration.ConfigOption<String> TOPIC =
            org.apache.flink.configuration.ConfigOptions.key("dien.topic.serving-log-labelled").stringType().defaultValue("serving-log-labelled")
                    .withDescription("The topic ExportSamples reads.");

    @Option(names = "--topic", description = "Default: dien.topic.serving-log-labelled of the settings, else serving-log-labelled.")
    String topic;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "The training file to write.")
    Path output;

    @Option(names = "--scores", paramLabel = "FILE",
            description = "Also writes each example's served score, one per line in the same order (for evaluate --served-scores).")
    Path scores;

    @Option(names = "--from", paramLabel = "TIME", converter = TimeArgument.class,
            description = "First request time (inclusive): ISO-8601 instant, epoch ms, now-DURATION.")
    Instant from;

    @Option(names = "--to", paramLabel = "TIME", converter = TimeArgument.class, description = "End of request time (exclusive).")
    Instant to;

    @Option(names = "--fingerprint", paramLabel = "FP", description = "Only requests served by this model.")
    String fingerprint;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        JobSettings.Kafka kafka = settings.kafka();
        if (topic == null) {
            topic = settings.configuration().get(TOPIC);
        }
        SampleExport export;
        TopicSnapshot.Counts counts;
        try (BufferedWriter out = writer(output); BufferedWriter served = scores == null ? null : writer(scores)) {
            export = new SampleExport(out, served, from, to, fingerprint);
            counts = TopicSnapshot.read(kafka.bootstrapServers(), kafka.client(), topic, ServingLog.class, r -> {
                try {
                    export.accept(r);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IllegalArgumentException e) {
            // a missing topic: no half-written training file is left behind
            Files.deleteIfExists(output);
            if (scores != null) {
                Files.deleteIfExists(scores);
            }
            throw new InputException(e.getMessage());
        } catch (UncheckedIOException e) {
            throw new InputException("cannot write " + output + ": " + e.getCause().getMessage());
        }
        spec.commandLine().getOut().println("export-samples " + export.summary() + " undecodable=" + counts.undecodable());
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static BufferedWriter writer(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InputException("cannot write " + file + ": " + e.getMessage());
        }
    }
}

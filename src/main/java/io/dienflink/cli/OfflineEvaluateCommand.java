package io.dienflink.cli;

import io.dienflink.model.DienModel;
import io.dienflink.offline.OfflineEvaluation;
import io.dienflink.train.OfficialFormat;
import io.dienflink.train.RawSample;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** A bundle's offline metrics on a file of labelled examples; docs/evaluation-report.md. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Scores every example of a file in the official DIEN format (e.g. export-samples' output) with the",
                "bundle, in windowed semantics (the extractor from zero over the example's last T clicks, as training",
                "does), and prints `evaluate model=... examples=... positives=... auc=... log_loss=... ne=... calibration=...`.",
                "--served-scores FILE (export-samples --scores) adds the same metrics of the served scores and how far the",
                "recomputed scores are from them. Exit codes: 0 printed, 1 bad bundle or file, 2 bad usage."})
final class OfflineEvaluateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model bundle directory or zip.")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "Labelled examples, official DIEN format.")
    Path data;

    @Option(names = "--served-scores", paramLabel = "FILE", description = "The served score of each example, one per line (export-samples --scores).")
    Path servedScores;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        List<RawSample> examples;
        try {
            examples = OfficialFormat.read(data);
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        } catch (IOException e) {
            throw new InputException("cannot read " + data + ": " + e.getMessage());
        }
        if (examples.isEmpty()) {
            throw new InputException(data + " has no examples");
        }
        DienModel bundle = DienModel.load(model);
        int[] y = OfflineEvaluation.labels(examples);
        long cpu = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        double[] p = OfflineEvaluation.score(bundle, examples);
        cpu = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpu;
        long longer = examples.stream().filter(x -> x.items().length > bundle.config().maxHistory()).count();
        PrintWriter out = spec.commandLine().getOut();
        print(out, "evaluate model=" + bundle.modelVersion() + " fingerprint=" + bundle.fingerprint() + " semantics=windowed",
                OfflineEvaluation.Metrics.of(p, y));
        spec.commandLine().getErr().printf(Locale.ROOT, "scored %d examples in %.2f s CPU; %d with a history longer than the "
                + "bundle's T=%d (windowed semantics reads their last T clicks)%n", p.length, cpu / 1e9, longer,
                bundle.config().maxHistory());
        if (servedScores != null) {
            double[] served = readScores(servedScores, p.length);
            print(out, "served", OfflineEvaluation.Metrics.of(served, y));
            OfflineEvaluation.Skew skew = OfflineEvaluation.compareServed(p, served);
            out.printf(Locale.ROOT, "skew examples=%d max_abs=%.3g mean_abs=%.3g above_1e-5=%d%n", skew.examples(), skew.maxAbs(),
                    skew.meanAbs(), skew.above1e5());
        }
        out.flush();
        return 0;
    }

    private static void print(PrintWriter out, String head, OfflineEvaluation.Metrics m) {
        out.printf(Locale.ROOT, "%s examples=%d positives=%d auc=%.9f log_loss=%.9f ne=%.9f calibration=%.6f%n", head,
                m.examples(), m.positives(), m.auc(), m.logLoss(), m.normalizedEntropy(), m.calibration());
    }

    private static double[] readScores(Path file, int expected) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new InputException("cannot read " + file + ": " + e.getMessage());
        }
        if (lines.size() != expected) {
            throw new InputException(file + ": " + lines.size() + " served scores for " + expected + " examples");
        }
        double[] s = new double[expected];
        for (int i = 0; i < expected; i++) {
            try {
                s[i] = Float.parseFloat(lines.get(i).trim());
            } catch (NumberFormatException e) {
                throw new InputException(file + ":" + (i + 1) + ": '" + lines.get(i) + "' is not a score");
            }
        }
        return s;
    }
}

package io.dienflink.cli;

import io.dienflink.model.ModelBundle;
import io.dienflink.train.BundleExport;
import io.dienflink.train.Dataset;
import io.dienflink.train.DienTrainer;
import io.dienflink.train.ModelKind;
import io.dienflink.train.OfficialFormat;
import io.dienflink.train.RawData;
import io.dienflink.train.RawSample;
import io.dienflink.train.SyntheticData;
import io.dienflink.train.TrainConfig;
import io.dienflink.train.TrainingReport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Trains DIEN (or a baseline) and writes a bundle, a model card and training curves. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Trains DIEN (extractor GRU with auxiliary loss, attention, AUGRU, head) or a baseline (din, base)",
                "on synthetic data or a file in the official DIEN format, and writes to --output: the bundle (DIEN only),",
                "MODEL_CARD.md and training.png. Ends with `train model=<m> auc=<x> logloss=<y> samples_per_s=<z>`."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "synthetic|FILE",
            description = "`synthetic` (SyntheticWorld), or a file in the official DIEN format.")
    String data;

    @Option(names = "--test", paramLabel = "FILE", description = "Held-out file (official format); default: the last tenth of --data's users, with all their examples.")
    Path test;

    @Option(names = "--model", defaultValue = "dien", description = "dien, din or base. Default: ${DEFAULT-VALUE}")
    String model;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Output directory.")
    Path output;

    @Option(names = "--epochs", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}")
    int epochs;

    @Option(names = "--seed", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--samples", defaultValue = "200000", description = "Synthetic examples (train + test). Default: ${DEFAULT-VALUE}")
    int samples;

    @Option(names = "--max-history", defaultValue = "30", description = "T. Default: ${DEFAULT-VALUE}")
    int maxHistory;

    @Option(names = "--model-version", description = "modelVersion of the bundle. Default: <model>-<data>-seed<seed>.")
    String modelVersion;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        ModelKind kind;
        try {
            kind = ModelKind.parse(model);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        TrainConfig cfg;
        try {
            cfg = TrainConfig.defaults(kind, maxHistory, epochs, seed);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        RawData raw = load();
        Dataset dataset = new Dataset(raw, seed);
        err.println("Data: " + dataset);
        long positives = raw.test().stream().filter(x -> x.label() == 1).count();
        if (positives == 0 || positives == raw.test().size()) {
            err.println("warning: every held-out example has label " + (positives == 0 ? 0 : 1)
                    + ": the held-out AUC is undefined (NaN); give a larger file or --test");
        }
        DienTrainer.Result r = new DienTrainer(cfg, dataset, err).train();
        Files.createDirectories(output);
        String fingerprint = null;
        double streamingAuc = Double.NaN;
        if (kind == ModelKind.DIEN) {
            String version = modelVersion != null ? modelVersion
                    : "dien-" + ("synthetic".equals(data) ? "synthetic" : Path.of(data).getFileName()) + "-seed" + seed;
            ModelBundle bundle = BundleExport.toBundle(r.network(), dataset, version);
            bundle.writeTo(output);
            fingerprint = bundle.fingerprint();
            streamingAuc = DienTrainer.streamingAuc(bundle, raw);
            err.printf("Bundle %s (%s) written to %s; streaming-semantics test AUC %.4f%n", version, fingerprint, output,
                    streamingAuc);
        }
        String command = "dien-flink train " + String.join(" ", spec.commandLine().getParseResult().expandedArgs());
        TrainingReport.modelCard(output.resolve("MODEL_CARD.md"), cfg, dataset, r, streamingAuc, fingerprint, command);
        TrainingReport.plot(output.resolve("training.png"), kind + " on " + raw.description(), r);
        out.printf("train model=%s auc=%.4f logloss=%.4f samples_per_s=%.0f%n", kind.name().toLowerCase(), r.auc(),
                r.logloss(), r.samplesPerSecond());
        out.flush();
        return 0;
    }

    private RawData load() throws Exception {
        if ("synthetic".equals(data)) {
            return SyntheticData.generate(samples, maxHistory, seed);
        }
        Path file = Path.of(data);
        try {
            List<RawSample> all = OfficialFormat.read(file);
            if (test != null) {
                return new RawData("official format: " + file.getFileName() + " / " + test.getFileName(), all,
                        OfficialFormat.read(test), null);
            }
            return OfficialFormat.splitByUser("official format: " + file.getFileName(), all);
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
    }
}

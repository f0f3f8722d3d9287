package io.dienflink.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dienflink.bundleimport.BundleImporter;
import io.dienflink.bundleimport.DiceCalibration;
import io.dienflink.bundleimport.ImportException;
import io.dienflink.bundleimport.SourceWeights;
import io.dienflink.bundleimport.Vocabulary;
import io.dienflink.model.ModelBundle;
import io.dienflink.train.OfficialFormat;
import io.dienflink.train.RawSample;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bundle import}: another framework's DIEN weights (an npz under their own names) into a bundle. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Imports DIEN weights trained with TensorFlow or PyTorch into a bundle (docs/importing.md).",
                "Prints one line per source variable (used or skipped, with why) and the bundle's fingerprint."})
final class BundleImportCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, paramLabel = "PRESET|MAPPING.json",
            description = "tf1-official (github mouna99/dien), deepctr-torch (DeepCTR-Torch DIEN, gru_type AUGRU) or a mapping file.")
    String from;

    @Option(names = "--weights", required = true, paramLabel = "FILE.npz",
            description = "The source variables under their own names (numpy.savez; float32 or float64).")
    Path weights;

    @Option(names = "--vocab", required = true, paramLabel = "KIND=FILE",
            description = "user=FILE, item=FILE and category=FILE: raw id to source embedding row, TSV (id<TAB>row) or JSON ({\"id\": row}).")
    Map<String, Path> vocab = new LinkedHashMap<>();

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Bundle directory to write.")
    Path output;

    @Option(names = "--calibrate", paramLabel = "DATA",
            description = "Official-format data (label, uid, mid, cat, mid history, cat history) to estimate the population "
                    + "statistics of Dice layers that use batch statistics in the source (required by tf1-official).")
    Path calibrate;

    @Option(names = "--calibrate-samples", defaultValue = "50000",
            description = "At most this many examples of DATA are used (the first ones). Default: ${DEFAULT-VALUE}")
    int calibrateSamples;

    @Option(names = "--max-history", defaultValue = "100",
            description = "T, the clicks the evolving layer reads (the official code's maxlen). Default: ${DEFAULT-VALUE}")
    int maxHistory;

    @Option(names = "--param", paramLabel = "NAME=VALUE",
            description = "A mapping parameter, e.g. deepctr-torch's item=item_id or dnn_activation=prelu.")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--model-version", description = "modelVersion of the bundle. Default: imported-<from>-<weights file name>.")
    String modelVersion;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        for (String kind : vocab.keySet()) {
            if (!List.of("user", "item", "category").contains(kind)) {
                throw new ImportException("--vocab " + kind + "=...: the kinds are user, item and category");
            }
        }
        JsonNode mapping = BundleImporter.loadMapping(from, params);
        Map<String, Vocabulary> vocabs = new LinkedHashMap<>();
        vocab.forEach((k, f) -> vocabs.put(k, Vocabulary.read(f)));
        String version = modelVersion != null ? modelVersion
                : "imported-" + Path.of(from).getFileName() + "-" + weights.getFileName();
        BundleImporter.Result result = BundleImporter.run(mapping, SourceWeights.read(weights), vocabs, maxHistory, version);
        ModelBundle bundle = result.bundle();
        PrintWriter out = spec.commandLine().getOut();
        if (!result.needCalibration().isEmpty()) {
            if (calibrate == null) {
                throw new ImportException(String.join(", ", result.needCalibration())
                        + ": the source normalises these Dice layers with batch statistics; give --calibrate DATA "
                        + "(official format) to estimate population statistics");
            }
            List<RawSample> samples = OfficialFormat.read(calibrate);
            if (samples.size() > calibrateSamples) {
                samples = samples.subList(0, calibrateSamples);
            }
            bundle = DiceCalibration.calibrate(bundle, samples, result.diceFlavour());
            out.println("calibrated " + String.join(", ", result.needCalibration()) + " over " + samples.size() + " examples");
        } else if (calibrate != null) {
            throw new ImportException("--calibrate: " + mapping.path("name").asText() + " has no batch-statistics layers to calibrate");
        }
        result.reportLines().forEach(out::println);
        bundle.writeTo(output);
        out.println("wrote " + output + " (" + bundle.config().modelVersion() + ", fingerprint " + bundle.fingerprint() + ")");
        out.flush();
        return 0;
    }
}

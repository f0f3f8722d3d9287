package io.dienflink.cli;

import io.dienflink.model.BundleLayout;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.ModelConfig;
import io.dienflink.reference.UntrainedBundles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Model bundle tools: validate and describe a bundle, write an untrained one, or import weights trained elsewhere. */
@Command(name = "bundle", mixinStandardHelpOptions = true,
        description = "Model bundle tools (format: MODEL_BUNDLE.md, version 1).",
        subcommands = {BundleCommand.Inspect.class, BundleCommand.Random.class, BundleImportCommand.class})
final class BundleCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Validates a bundle and prints its manifest, fingerprint and arrays; exit 1 names the first problem.")
    static final class Inspect implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "DIR", description = "Bundle directory or zip.")
        Path model;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            ModelBundle b = ModelBundle.load(model);
            PrintWriter out = spec.commandLine().getOut();
            out.println(new String(b.config().toJson(), StandardCharsets.UTF_8));
            out.println("fingerprint " + b.fingerprint());
            for (Map.Entry<String, int[]> e : BundleLayout.expected(b.config()).entrySet()) {
                out.printf("%-28s %s %s%n", e.getKey(), b.array(e.getKey()).descr(), Arrays.toString(e.getValue()));
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "random", mixinStandardHelpOptions = true,
            description = {"Writes an UNTRAINED bundle with random weights and the official architecture.",
                    "Its scores are deterministic in the seed but meaningless: for benchmarks and smoke tests."})
    static final class Random implements Callable<Integer> {
        @Option(names = "--output", required = true, paramLabel = "DIR", description = "Directory to write.")
        Path output;

        @Option(names = "--users", defaultValue = "10000", description = "User vocabulary size. Default: ${DEFAULT-VALUE}")
        int users;

        @Option(names = "--items", defaultValue = "5000", description = "Item vocabulary size. Default: ${DEFAULT-VALUE}")
        int items;

        @Option(names = "--categories", defaultValue = "50", description = "Category vocabulary size. Default: ${DEFAULT-VALUE}")
        int categories;

        @Option(names = "--max-history", defaultValue = "100", description = "T. Default: ${DEFAULT-VALUE}")
        int maxHistory;

        @Option(names = "--seed", defaultValue = "2019", description = "Random seed. Default: ${DEFAULT-VALUE}")
        long seed;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ModelConfig config = UntrainedBundles.officialArchitecture("untrained-random-seed-" + seed,
                    new ModelConfig.VocabSizes(users, items, categories), maxHistory);
            ModelBundle b = UntrainedBundles.random(config, seed);
            b.writeTo(output);
            spec.commandLine().getOut().println("wrote " + output + " (" + config.modelVersion() + ", fingerprint "
                    + b.fingerprint() + "); vocabulary ids are 1000, 2000, 3000, ...");
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}

package io.dienflink.cli;

import io.dienflink.bench.BenchModels;
import io.dienflink.bench.FlopModel;
import io.dienflink.bench.MachineInfo;
import io.dienflink.bench.PeakFlopsBenchmark;
import io.dienflink.model.Kernels;
import io.dienflink.model.ModelConfig;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the model-core JMH benchmarks (click append, scoring, baselines) and prints a Markdown
 * table with medians, GFLOP/s against the machine's fp32 peak, allocation per operation and
 * speed-ups over the baselines measured in the same run.
 */
@Command(name = "bench-model", mixinStandardHelpOptions = true,
        description = {"Benchmarks the model core with JMH (official dimensions) and prints a Markdown report.",
                "Needs the JVM flag --add-modules=jdk.incubator.vector for the fused kernels."})
final class ModelBenchCommand implements Callable<Integer> {

    @Option(names = "--include", defaultValue = "io\\.dienflink\\..*Benchmark",
            description = "JMH include regex. Default: ${DEFAULT-VALUE}")
    String include;

    @Option(names = "--warmup", defaultValue = "3", description = "Warm-up iterations of 1 s. Default: ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--iterations", defaultValue = "5", description = "Measured iterations of 1 s. Default: ${DEFAULT-VALUE}")
    int iterations;

    @Option(names = "--max-history", defaultValue = "100", description = "T, the window length. Default: ${DEFAULT-VALUE}")
    int maxHistory;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws RunnerException {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(include)
                .param("maxHistory", Integer.toString(maxHistory))
                .forks(1)
                .threads(1)
                .warmupIterations(warmup)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(iterations)
                .measurementTime(TimeValue.seconds(1))
                .addProfiler(GCProfiler.class)
                .jvmArgsAppend("--add-modules=jdk.incubator.vector", "-Xmx3g", "-XX:+UseParallelGC");
        // JMH's progress goes to stderr, so that stdout is the Markdown report alone
        Collection<RunResult> results = new Runner(options.build(),
                OutputFormatFactory.createFormatInstance(System.err, VerboseMode.NORMAL)).run();
        report(results, spec.commandLine().getOut());
        return 0;
    }

    /** {@code nd4jBaseline}: the ND4J benchmark doing the same work, or null when there is none. */
    private record Row(String benchmark, int candidates, double medianUs, double minUs, double maxUs, long flops,
                       double allocBytes, String nd4jBaseline) {}

    private void report(Collection<RunResult> results, PrintWriter out) {
        ModelConfig config = BenchModels.official(maxHistory).config();
        MachineInfo m = MachineInfo.current();
        // FLOPs of the work the fused path performs (see FlopModel), not of the spec's naive formulation.
        List<Row> rows = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            String simple = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            String c = r.getParams().getParam("candidates");
            int candidates = c == null ? 0 : Integer.parseInt(c);
            var stats = r.getPrimaryResult().getStatistics();
            Map<String, Result> secondary = r.getSecondaryResults();
            Result alloc = secondary.get("gc.alloc.rate.norm");
            long flops;
            String nd4jBaseline;
            if (simple.startsWith("ClickAppendBenchmark.")) {
                flops = FlopModel.append(config);
                nd4jBaseline = "ClickAppendBenchmark.appendNd4jOpByOp";
            } else if (simple.startsWith("ScoreBenchmark.") || simple.startsWith("Nd4jScoreBenchmark.")) {
                flops = FlopModel.score(config, maxHistory, candidates, simple.contains("windowed"));
                nd4jBaseline = "Nd4jScoreBenchmark.windowedNd4jOpByOp";
            } else {
                // phases, upgrades and the peak test have no FLOP model and no ND4J counterpart
                flops = -1;
                nd4jBaseline = null;
            }
            rows.add(new Row(simple, candidates, stats.getPercentile(50), stats.getMin(), stats.getMax(), flops,
                    alloc == null ? Double.NaN : alloc.getScore(), nd4jBaseline));
        }
        rows.sort(Comparator.comparingInt(Row::candidates).thenComparing(Row::benchmark));
        Row peakRow = rows.stream().filter(r -> r.benchmark().endsWith("fmaThroughput")).findFirst().orElse(null);
        double measuredPeak = peakRow == null ? Double.NaN : PeakFlopsBenchmark.flopsPerOp() / (peakRow.medianUs() * 1e3);
        out.printf("%nMachine: %s, %d cores, %.2f GHz nominal, %d-bit vectors. fp32 peak per core: %.0f GFLOP/s measured "
                        + "(PeakFlopsBenchmark), %.0f GFLOP/s from the nominal clock. JVM %s, kernels: %s.%n",
                m.cpu(), m.cores(), m.ghz(), m.vectorBits(), measuredPeak, m.peakGflopsPerCore(), Runtime.version(),
                Kernels.best().describe());
        out.printf("Model: official architecture, E=%d H=%d T=%d, vocab %s. Single thread. Median of %d x 1 s iterations.%n%n",
                config.embeddingDim(), config.hiddenDim(), maxHistory, config.vocab(), iterations);
        out.println("| benchmark | candidates | median µs/op | min–max µs | vs ND4J op-by-op | vs windowed | MFLOP/op | GFLOP/s | % of measured peak | alloc B/op |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Row r : rows) {
            if (r == peakRow) {
                continue;
            }
            Row nd4j = r.nd4jBaseline() == null ? null : find(rows, r.nd4jBaseline(), r.candidates());
            Row windowed = r.candidates() == 0 ? null : find(rows, "ScoreBenchmark.windowedVector", r.candidates());
            double gflops = r.flops() / (r.medianUs() * 1e3);
            boolean counted = r.flops() > 0;
            out.printf("| %s | %s | %.2f | %.2f–%.2f | %s | %s | %s | %s | %s | %.0f |%n", r.benchmark(),
                    r.candidates() == 0 ? "–" : Integer.toString(r.candidates()), r.medianUs(), r.minUs(), r.maxUs(),
                    ratio(nd4j, r), ratio(windowed, r), counted ? String.format("%.3f", r.flops() / 1e6) : "–",
                    counted ? String.format("%.1f", gflops) : "–",
                    counted && !Double.isNaN(measuredPeak) ? String.format("%.0f%%", 100 * gflops / measuredPeak) : "–",
                    r.allocBytes());
        }
        out.flush();
    }

    private static Row find(List<Row> rows, String benchmark, int candidates) {
        return rows.stream().filter(r -> r.benchmark().equals(benchmark) && r.candidates() == candidates).findFirst().orElse(null);
    }

    private static String ratio(Row baseline, Row r) {
        return baseline == null || baseline == r ? "–" : String.format("%.1f×", baseline.medianUs() / r.medianUs());
    }
}

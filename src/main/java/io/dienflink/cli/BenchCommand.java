package io.dienflink.cli;

import io.dienflink.bench.MachineInfo;
import io.dienflink.bench.ModelCapacity;
import io.dienflink.bench.Spread;
import io.dienflink.job.DienJobOptions;
import io.dienflink.local.EmbeddedPipeline;
import io.dienflink.model.DienModel;
import io.dienflink.traffic.ScoreReader;
import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.traffic.TrafficGenerator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * End-to-end benchmark on the embedded pipeline (Kafka → Flink → Kafka, all in this JVM), its
 * phases run {@code --repeats} times, each repeat on a fresh broker and job with the same data:
 *
 * <ol>
 *   <li>Capacity: the model core's single-thread requests/s for this run's request mix (same
 *       candidates, windows built from the same clicks as the job's state), before the pipeline
 *       starts ({@link ModelCapacity}).</li>
 *   <li>Click throughput: N clicks are preloaded into Kafka before the job starts; the job then
 *       drains them with no generator in the way, and the rate is read from the scoring operator's
 *       records-in metric over the last 80 % of the drain (the first 20 % include JIT warm-up).</li>
 *   <li>Saturation: requests offered faster than the job can score them (a multiple of capacity ×
 *       parallelism, held back while about two seconds of that are unscored) plus background clicks;
 *       the saturated rate is the scores read back per second after a warm-up. The backlog is then
 *       worked off before the next phase.</li>
 *   <li>Latency: requests at half the saturated rate (or {@code --requests-per-second}) plus
 *       background clicks; latency is request event_time → score read back from Kafka, over the
 *       phase minus a warm-up.</li>
 * </ol>
 * Ends with {@code bench clicks_per_s=<x> requests_per_s=<y> p50_ms=<a> p99_ms=<b> capacity_ratio=<r>}
 * on stdout: medians over the repeats; {@code requests_per_s} is the saturated rate and
 * {@code capacity_ratio} the saturated rate over capacity × scorer parallelism.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"End-to-end benchmark on the embedded pipeline: model capacity, click throughput, saturated "
                + "request rate, then request latency at half that rate; each phase --repeats times.",
                "Ends with `bench clicks_per_s=<x> requests_per_s=<y> p50_ms=<a> p99_ms=<b> capacity_ratio=<r>` on stdout "
                        + "(medians over the repeats; requests_per_s is the saturated rate, capacity_ratio the saturated "
                        + "rate over the model core's single-thread capacity times the parallelism)."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--clicks", defaultValue = "1000000", description = "Clicks preloaded for the throughput phase. Default: ${DEFAULT-VALUE}")
    long clicks;

    @Option(names = "--requests-per-second",
            description = "Request rate of the latency phase. Default: half the saturated rate measured in the same repeat.")
    Double requestsPerSecond;

    @Option(names = "--candidates", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}")
    int candidates;

    @Option(names = "--background-clicks-per-second", defaultValue = "10000",
            description = "Clicks sent during the saturation and latency phases. Default: ${DEFAULT-VALUE}")
    double backgroundClicks;

    @Option(names = "--repeats", defaultValue = "3", description = "Times every phase runs (fresh broker and job each). Default: ${DEFAULT-VALUE}")
    int repeats;

    @Option(names = "--capacity-duration", defaultValue = "5s", converter = DurationConverter.class,
            description = "Measured part of the capacity phase (after 2 s of warm-up). Default: ${DEFAULT-VALUE}")
    Duration capacityDuration;

    @Option(names = "--saturation-duration", defaultValue = "25s", converter = DurationConverter.class,
            description = "Length of the saturation phase. Default: ${DEFAULT-VALUE}")
    Duration saturationDuration;

    @Option(names = "--saturation-warmup", defaultValue = "5s", converter = DurationConverter.class,
            description = "Scores of the first part of the saturation phase are not counted. Default: ${DEFAULT-VALUE}")
    Duration saturationWarmup;

    @Option(names = "--saturation-offer", defaultValue = "1.25",
            description = "Requests offered in the saturation phase, as a multiple of capacity × parallelism. Default: ${DEFAULT-VALUE}")
    double saturationOffer;

    @Option(names = "--latency-duration", defaultValue = "60s", converter = DurationConverter.class,
            description = "Length of the latency phase. Default: ${DEFAULT-VALUE}")
    Duration latencyDuration;

    @Option(names = "--latency-warmup", defaultValue = "15s", converter = DurationConverter.class,
            description = "Latencies of the first part of the phase are not counted. Default: ${DEFAULT-VALUE}")
    Duration latencyWarmup;

    /** The default model is the untrained bundle of the official dimensions with T = 100. */
    @CommandLine.Mixin
    EmbeddedJobOptions job = new EmbeddedJobOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The seed of the synthetic world; every repeat replays the same clicks. */
    private static final long SEED = 11;
    private static final Duration CAPACITY_WARMUP = Duration.ofSeconds(2);

    /** One repeat's figures. */
    record Repeat(double capacity, double capacityWindow, double clicksPerSecond, double offered, double saturated,
                  double saturatedWindow, double ratio, double latencyOffered, double latencyRate, double p50, double p99,
                  double latencyWindow) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        checkShorter(latencyWarmup, latencyDuration, "--latency-warmup", "--latency-duration");
        checkShorter(saturationWarmup, saturationDuration, "--saturation-warmup", "--saturation-duration");
        if (repeats < 1 || candidates < 1 || saturationOffer <= 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--repeats and --candidates must be positive and --saturation-offer above 1");
        }
        try (ResultsOnStdout results = ResultsOnStdout.take(spec)) {
            Configuration conf = job.jobSettings(ShippedBundle.UNTRAINED, Duration.ZERO);
            DienModel model = DienModel.load(Path.of(conf.get(DienJobOptions.MODEL_PATH)));
            int parallelism = job.parallelism > 0 ? job.parallelism : 2;
            err.printf("Machine: %s%n", MachineInfo.current());
            List<Repeat> runs = new ArrayList<>();
            for (int r = 1; r <= repeats; r++) {
                err.printf("== repeat %d of %d ==%n", r, repeats);
                err.flush();
                Repeat run = repeat(conf, model, parallelism, err);
                runs.add(run);
                err.printf("repeat %d: %s%n", r, run);
                err.flush();
            }
            summary(runs, parallelism, err);
            results.out().printf(java.util.Locale.ROOT,
                    "bench clicks_per_s=%.0f requests_per_s=%.0f p50_ms=%.0f p99_ms=%.0f capacity_ratio=%.2f%n",
                    spread(runs, Repeat::clicksPerSecond).median(), spread(runs, Repeat::saturated).median(),
                    spread(runs, Repeat::p50).median(), spread(runs, Repeat::p99).median(),
                    spread(runs, Repeat::ratio).median());
        }
        return 0;
    }

    private void checkShorter(Duration warmup, Duration duration, String warmupName, String durationName) {
        if (!warmup.minus(duration).isNegative()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    warmupName + " (" + warmup + ") must be shorter than " + durationName + " (" + duration + ")");
        }
    }

    private Repeat repeat(Configuration conf, DienModel model, int parallelism, PrintWriter err) throws Exception {
        // The saturation phase's requests meet windows grown by its background clicks: build the
        // capacity's windows from the preload plus the clicks sent by the middle of that phase.
        long capacityClicks = clicks + (long) (backgroundClicks
                * (saturationWarmup.toMillis() + saturationDuration.toMillis()) / 2000.0);
        ModelCapacity.Result capacity = ModelCapacity.measure(model, SyntheticWorld.demo(SEED), capacityClicks, candidates,
                CAPACITY_WARMUP, capacityDuration);
        err.printf("Model core capacity: %.0f requests/s on one thread (%d requests of %d candidates in %.1f s, "
                        + "%.1f stored clicks on average)%n", capacity.requestsPerSecond(), capacity.requests(), candidates,
                capacity.seconds(), capacity.meanWindow());
        SyntheticWorld world = SyntheticWorld.demo(SEED);
        err.printf("Preloading %d clicks ...%n", clicks);
        err.flush();
        long preloadStart = System.nanoTime();
        try (EmbeddedPipeline pipeline = EmbeddedPipeline.start(conf, (servers, topics) -> {
            try (TrafficGenerator preload = new TrafficGenerator(servers, topics, world,
                    new TrafficGenerator.Rates(0, 0, candidates, 0, clicks, 0)).start()) {
                while (!preload.finished()) {
                    Thread.sleep(100);
                }
                preload.close(); // flushes: every send has its outcome
                if (preload.failed() > 0) {
                    throw new IllegalStateException(preload.failed() + " preloaded clicks were not accepted by Kafka");
                }
            }
        })) {
            err.printf("Preloaded in %.1f s; job started (web UI %s)%n", (System.nanoTime() - preloadStart) / 1e9,
                    pipeline.webUiUrl());
            err.flush();
            double clicksPerSecond = drainRate(pipeline, err);
            ScoreReader reader = new ScoreReader(pipeline.bootstrapServers(), pipeline.config().topics(), job.exactlyOnce()).start();
            try {
                double offered = saturationOffer * capacity.requestsPerSecond() * parallelism;
                double[] saturated = saturationPhase(pipeline, world, reader, offered, err);
                double ratio = saturated[0] / (capacity.requestsPerSecond() * parallelism);
                err.printf("Saturated: %.0f requests/s (offered %.0f/s) against %.1f stored clicks on average; "
                                + "%.0f %% of capacity × parallelism (%.0f × %d)%n", saturated[0], offered, saturated[1],
                        100 * ratio, capacity.requestsPerSecond(), parallelism);
                double latencyOffered = requestsPerSecond != null ? requestsPerSecond : saturated[0] / 2;
                double[] latency = latencyPhase(pipeline, world, reader, latencyOffered, err);
                return new Repeat(capacity.requestsPerSecond(), capacity.meanWindow(), clicksPerSecond, offered,
                        saturated[0], saturated[1], ratio, latencyOffered, latency[0], latency[1], latency[2], latency[3]);
            } finally {
                reader.close();
            }
        }
    }

    /** Waits until the scorer has read every preloaded click; returns the rate over the last 80 %. */
    private double drainRate(EmbeddedPipeline pipeline, PrintWriter err) throws Exception {
        long mark = (long) (0.2 * clicks);
        long markTime = 0;
        long markCount = 0;
        long last = 0;
        long drainStart = System.nanoTime();
        long lastChange = drainStart;
        while (true) {
            Thread.sleep(250);
            long n = pipeline.scorerRecordsIn();
            long now = System.nanoTime();
            if (n > last) {
                lastChange = now;
                last = n;
            }
            if (n >= clicks) {
                // over the last 80 %; if the mark was crossed in this very poll, over the whole drain
                double rate = markTime > 0 && n > markCount
                        ? (n - markCount) / ((now - markTime) / 1e9)
                        : n / ((now - drainStart) / 1e9);
                err.printf("Drained %d clicks; %.0f clicks/s after the first 20 %%%n", n, rate);
                err.flush();
                return rate;
            }
            if (markTime == 0 && n >= mark) {
                markTime = now;
                markCount = n;
            }
            if (now - lastChange > 60_000_000_000L) {
                throw new IllegalStateException("the job stopped reading clicks at " + n + " of " + clicks);
            }
        }
    }

    /**
     * Offers {@code offered} requests/s (more than the job can score) with the background clicks;
     * returns {scores read back per second after the warm-up, mean window scored against}. Then
     * stops the traffic and waits until every request sent has been scored, so the latency phase
     * starts without a backlog.
     */
    private double[] saturationPhase(EmbeddedPipeline pipeline, SyntheticWorld world, ScoreReader reader, double offered,
                                     PrintWriter err) throws Exception {
        TrafficGenerator traffic = new TrafficGenerator(pipeline.bootstrapServers(), pipeline.config().topics(), world,
                new TrafficGenerator.Rates(backgroundClicks, offered, candidates, 0, Long.MAX_VALUE, Long.MAX_VALUE));
        // Keep a queue, not a flood: at most about two seconds of the offer unscored. The job stays
        // busy (saturated) while the backlog left for the latency phase is worked off in seconds.
        long maxBacklog = Math.max(100, (long) (2 * offered / saturationOffer));
        traffic.gateRequests(() -> traffic.validRequests() - reader.scoredRequests() < maxBacklog);
        double rate;
        double window;
        try {
            traffic.start();
            Thread.sleep(saturationWarmup.toMillis());
            long scores0 = reader.scores();
            long history0 = reader.historyClicks();
            long t0 = System.nanoTime();
            long end = t0 + saturationDuration.minus(saturationWarmup).toNanos();
            long prev = scores0;
            while (System.nanoTime() < end) {
                Thread.sleep(1000);
                long s = reader.scores();
                err.printf("saturation: scored/s=%d sent=%d scored=%d%n", s - prev, traffic.validRequests(),
                        reader.scoredRequests());
                err.flush();
                prev = s;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long scored = reader.scores() - scores0;
            rate = scored / seconds;
            window = scored == 0 ? 0 : (reader.historyClicks() - history0) / (double) scored;
            long backlog = traffic.validRequests() - reader.scoredRequests();
            // a job that kept up with the offer was not saturated: its rate is the offer's, not its own
            if (backlog < Math.min(rate / 2, maxBacklog / 2.0)) {
                err.printf("WARNING: not saturated: %d requests unscored at the end of the phase; raise --saturation-offer%n",
                        backlog);
            } else {
                err.printf("Backlog at the end of the phase: %d requests (%.1f s of scoring)%n", backlog, backlog / rate);
            }
        } finally {
            traffic.close();
        }
        long sent = traffic.validRequests();
        long waitStart = System.nanoTime();
        long deadline = waitStart + Math.max(120_000_000_000L, 4 * saturationDuration.toNanos());
        while (reader.scoredRequests() < sent) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the saturation phase's backlog was not worked off: "
                        + reader.scoredRequests() + " of " + sent + " requests scored");
            }
            Thread.sleep(250);
        }
        err.printf("Saturation backlog of the phase worked off %.1f s after the traffic stopped%n",
                (System.nanoTime() - waitStart) / 1e9);
        err.flush();
        return new double[] {rate, window};
    }

    /** Returns {requests/s scored, p50 ms, p99 ms, mean window} over the phase minus its warm-up. */
    private double[] latencyPhase(EmbeddedPipeline pipeline, SyntheticWorld world, ScoreReader reader, double rate,
                                  PrintWriter err) throws Exception {
        err.printf("Latency phase at %.0f requests/s%n", rate);
        try (TrafficGenerator traffic = new TrafficGenerator(pipeline.bootstrapServers(), pipeline.config().topics(), world,
                new TrafficGenerator.Rates(backgroundClicks, rate, candidates, 0, Long.MAX_VALUE, Long.MAX_VALUE))) {
            traffic.start();
            Thread.sleep(latencyWarmup.toMillis());
            reader.interval(); // discard warm-up latencies
            Histogram measured = new Histogram(3);
            long scores0 = reader.scores();
            long history0 = reader.historyClicks();
            long t0 = System.nanoTime();
            long end = t0 + latencyDuration.minus(latencyWarmup).toNanos();
            while (System.nanoTime() < end) {
                Thread.sleep(1000);
                Histogram h = reader.interval();
                measured.add(h);
                err.printf("requests/s=%d p50_ms=%d p99_ms=%d%n", h.getTotalCount(), h.getValueAtPercentile(50),
                        h.getValueAtPercentile(99));
                err.flush();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long scored = reader.scores() - scores0;
            double window = scored == 0 ? 0.0 : (reader.historyClicks() - history0) / (double) scored;
            // the cost of a request grows with the user's window: say what was measured
            err.printf("Scored %d requests against %.1f stored clicks on average%n", scored, window);
            err.flush();
            return new double[] {scored / seconds, measured.getValueAtPercentile(50), measured.getValueAtPercentile(99),
                    window};
        }
    }

    private static Spread spread(List<Repeat> runs, ToDoubleFunction<Repeat> figure) {
        return Spread.of(runs.stream().mapToDouble(figure).toArray());
    }

    /** Median (min–max) of every figure over the repeats, on stderr. */
    private void summary(List<Repeat> runs, int parallelism, PrintWriter err) {
        err.printf("Summary over %d repeats, median (min–max), scorer parallelism %d:%n", runs.size(), parallelism);
        err.printf("  model core capacity, requests/s on one thread: %s at %s stored clicks%n",
                spread(runs, Repeat::capacity).format(0), spread(runs, Repeat::capacityWindow).format(1));
        err.printf("  clicks/s (preload drain):                      %s%n", spread(runs, Repeat::clicksPerSecond).format(0));
        err.printf("  saturated requests/s:                          %s at %s stored clicks (offered %s)%n",
                spread(runs, Repeat::saturated).format(0), spread(runs, Repeat::saturatedWindow).format(1),
                spread(runs, Repeat::offered).format(0));
        err.printf("  saturated / (capacity × %d):                    %s%n", parallelism, spread(runs, Repeat::ratio).format(2));
        err.printf("  latency phase requests/s offered, scored:      %s, %s at %s stored clicks%n",
                spread(runs, Repeat::latencyOffered).format(0), spread(runs, Repeat::latencyRate).format(0),
                spread(runs, Repeat::latencyWindow).format(1));
        err.printf("  latency p50 ms, p99 ms:                        %s, %s%n", spread(runs, Repeat::p50).format(0),
                spread(runs, Repeat::p99).format(0));
        err.flush();
    }
}

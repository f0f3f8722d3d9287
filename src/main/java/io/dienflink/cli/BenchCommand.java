package io.dienflink.cli;

import io.dienflink.job.EmbeddedPipeline;
import io.dienflink.traffic.ScoreReader;
import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.traffic.TrafficGenerator;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * End-to-end benchmark on the embedded pipeline (Kafka → Flink → Kafka, all in this JVM).
 *
 * <ol>
 *   <li>Throughput: N clicks are preloaded into Kafka before the job starts; the job then drains
 *       them with no generator in the way, and the rate is read from the scoring operator's
 *       records-in metric over the last 80 % of the drain (the first 20 % include JIT warm-up).</li>
 *   <li>Latency: with the job warm, requests at a fixed rate (plus background clicks) for a while;
 *       latency is request event_time → score read back from Kafka, over the run minus a warm-up.</li>
 * </ol>
 * Ends with {@code bench clicks_per_s=<x> requests_per_s=<y> p50_ms=<a> p99_ms=<b>} on stdout.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"End-to-end benchmark on the embedded pipeline: click throughput, then request latency.",
                "Ends with `bench clicks_per_s=<x> requests_per_s=<y> p50_ms=<a> p99_ms=<b>` on stdout."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--clicks", defaultValue = "1000000", description = "Clicks preloaded for the throughput phase. Default: ${DEFAULT-VALUE}")
    long clicks;

    @Option(names = "--requests-per-second", defaultValue = "2000", description = "Default: ${DEFAULT-VALUE}")
    double requestsPerSecond;

    @Option(names = "--candidates", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}")
    int candidates;

    @Option(names = "--background-clicks-per-second", defaultValue = "10000",
            description = "Clicks sent during the latency phase. Default: ${DEFAULT-VALUE}")
    double backgroundClicks;

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

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!latencyWarmup.minus(latencyDuration).isNegative()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--latency-warmup (" + latencyWarmup + ") must be shorter than --latency-duration (" + latencyDuration + ")");
        }
        try (ResultsOnStdout results = ResultsOnStdout.take(spec)) {
            Configuration conf = job.jobSettings(ShippedBundle.UNTRAINED, Duration.ZERO);
            SyntheticWorld world = SyntheticWorld.demo(11);
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
                double[] latency = latencyPhase(pipeline, world, err);
                results.out().printf("bench clicks_per_s=%.0f requests_per_s=%.0f p50_ms=%.0f p99_ms=%.0f%n",
                        clicksPerSecond, latency[0], latency[1], latency[2]);
            }
        }
        return 0;
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

    /** Returns {requests/s scored, p50 ms, p99 ms} over the phase minus its warm-up. */
    private double[] latencyPhase(EmbeddedPipeline pipeline, SyntheticWorld world, PrintWriter err) throws Exception {
        ScoreReader reader = new ScoreReader(pipeline.bootstrapServers(), pipeline.config().topics(), job.exactlyOnce()).start();
        try (TrafficGenerator traffic = new TrafficGenerator(pipeline.bootstrapServers(), pipeline.config().topics(), world,
                new TrafficGenerator.Rates(backgroundClicks, requestsPerSecond, candidates, 0, Long.MAX_VALUE, Long.MAX_VALUE))) {
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
            // the cost of a request grows with the user's window: say what was measured
            err.printf("Scored %d requests against %.1f stored clicks on average%n", scored,
                    scored == 0 ? 0.0 : (reader.historyClicks() - history0) / (double) scored);
            err.flush();
            return new double[] {scored / seconds, measured.getValueAtPercentile(50),
                    measured.getValueAtPercentile(99)};
        } finally {
            reader.close();
        }
    }
}

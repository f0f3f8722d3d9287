package io.dienflink.cli;

import io.dienflink.bench.ThreadCpu;
import io.dienflink.job.DienScoringJob;
import io.dienflink.shadow.ShadowStage;

import io.dienflink.job.DienJobOptions;
import io.dienflink.local.EmbeddedPipeline;
import io.dienflink.traffic.ScoreReader;
import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.traffic.TrafficGenerator;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The embedded run: a Kafka broker, the job on a local MiniCluster, synthetic traffic and a score
 * reader, all in this JVM. Live status on stderr; on Ctrl-C or after {@code --duration}, exactly one
 * {@code summary ...} line on stdout.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs everything embedded: Kafka (KRaft), the job on a local Flink MiniCluster (RocksDB, web UI),",
                "a synthetic traffic generator and a score reader. Status goes to stderr; the final line",
                "`summary clicks=<n> requests=<n> scores=<n> dead_letters=<n> unscored=<n> expired=<n> p50_ms=<x> p99_ms=<x>",
                "max_ms=<x>` to stdout (with `recovered_after_s=<x>` after an --outage-at)."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--duration", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Stop after this long (e.g. 60s, 5min). Default: run until Ctrl-C.")
    Duration duration;

    @Option(names = "--clicks-per-second", defaultValue = "5000", description = "Default: ${DEFAULT-VALUE}")
    double clicksPerSecond;

    @Option(names = "--requests-per-second", defaultValue = "200", description = "Default: ${DEFAULT-VALUE}")
    double requestsPerSecond;

    @Option(names = "--candidates", defaultValue = "10", description = "Candidates per request. Default: ${DEFAULT-VALUE}")
    int candidates;

    @Option(names = "--malformed", defaultValue = "0.001",
            description = "Share of generated records that are malformed (dead-lettered). Default: ${DEFAULT-VALUE}")
    double malformed;

    /** The default model is the shipped demo bundle (DIEN trained on the synthetic traffic). */
    @CommandLine.Mixin
    EmbeddedJobOptions job = new EmbeddedJobOptions();

    @Option(names = "--seed", defaultValue = "7", description = "Traffic seed. Default: ${DEFAULT-VALUE}")
    long seed;

    @CommandLine.Mixin
    ResponseOptions responses = new ResponseOptions();

    @Option(names = "--evaluate", negatable = true,
            description = "Also run the online evaluation job (docs/evaluation.md) on the embedded broker and print "
                    + "the ModelEval records it wrote and the eval-report of them at the end (stderr); turns --responses "
                    + "on, so there are labels. On by default with --shadow (the whole loop, champion against "
                    + "challenger); --no-evaluate runs the challenger alone (e.g. to measure what it costs).")
    Boolean evaluate;

    @Option(names = "--attribution-window", defaultValue = "30s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "With --evaluate: dien.eval.attribution-window (the demo's responses come within "
                    + "--response-delay-max). Default: ${DEFAULT-VALUE}")
    Duration attributionWindow;

    @Option(names = "--warmup", defaultValue = "0s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Latencies of the first part of the run are left out of the summary. Default: ${DEFAULT-VALUE}")
    Duration warmup;

    @Option(names = "--timeline", paramLabel = "FILE",
            description = "Write one CSV row per second (latency percentiles, maximum, checkpoint in progress) to FILE; "
                    + "`plot-timeline` draws it.")
    java.nio.file.Path timeline;

    @Option(names = "--outage-at", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Stop the job with a savepoint this long after traffic starts (traffic goes on), and restart it "
                    + "from the savepoint after --outage; the summary then reports when fresh requests were back "
                    + "under --recovered-p99.")
    Duration outageAt;

    @Option(names = "--outage", defaultValue = "30s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "How long the job stays down with --outage-at. Default: ${DEFAULT-VALUE}")
    Duration outage;

    @Option(names = "--recovered-p99", defaultValue = "30", paramLabel = "MS",
            description = "After an outage, the job counts as recovered from the first of five consecutive seconds "
                    + "whose p99 latency is at most this. Default: ${DEFAULT-VALUE}")
    long recoveredP99;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Configuration conf = job.jobSettings(ShippedBundle.DEMO);
        try (ResultsOnStdout results = ResultsOnStdout.take(spec)) {
            return run(conf, results.out(), spec.commandLine().getErr());
        }
    }

    private int run(Configuration conf, PrintWriter out, PrintWriter err) throws Exception {
        String bundle = conf.get(DienJobOptions.MODEL_PATH);
        err.println("Starting Kafka (KRaft) and the Flink job on a local MiniCluster with RocksDB ...");
        err.flush();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                done.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (EmbeddedPipeline pipeline = EmbeddedPipeline.start(conf);
             TrafficGenerator generator = new TrafficGenerator(pipeline.bootstrapServers(), pipeline.config().topics(),
                     SyntheticWorld.demo(seed), new TrafficGenerator.Rates(clicksPerSecond, requestsPerSecond, candidates,
                     malformed, Long.MAX_VALUE, Long.MAX_VALUE));
             ScoreReader reader = new ScoreReader(pipeline.bootstrapServers(), pipeline.config().topics(), job.exactlyOnce()).start()) {
            err.println("Flink web UI: " + pipeline.webUiUrl());
            err.println("Kafka: " + pipeline.bootstrapServers() + "  topics: " + pipeline.config().topics());
            err.println("Model: " + bundle);
            err.flush();
            // Traffic starts once a probe request has been scored: the job is running and its kernels are
            // compiled. A probe that waited longer than dien.request.max-age for the starting job expires,
            // so a fresh one is sent every two seconds.
            boolean ready = false;
            for (int attempt = 0; attempt < 60 && !ready; attempt++) {
                generator.probe(ScoreReader.PROBE_PREFIX + "ready-" + attempt);
                ready = reader.awaitProbe(ScoreReader.PROBE_PREFIX + "ready-" + attempt, Duration.ofSeconds(2));
            }
            if (!ready) {
                err.println("error: the job did not score a probe request within 120 s; see the log above.");
                err.flush();
                return 1;
            }
            err.println("Job ready; traffic: " + clicksPerSecond + " clicks/s, " + requestsPerSecond + " requests/s of "
                    + candidates + " candidates");
            err.flush();
            if (evaluate == null) {
                evaluate = job.shadow != null; // a challenger is judged by its evaluation
            }
            if (evaluate) {
                responses.responses = true;
                Configuration eval = new Configuration(conf);
                eval.set(io.dienflink.evaluate.EvaluateOptions.ATTRIBUTION_WINDOW, attributionWindow);
                // the demo has no challenger unless the scoring job runs one: its empty topic must not stall labels
                eval.set(io.dienflink.evaluate.EvaluateOptions.SOURCE_IDLENESS, Duration.ofSeconds(10));
                pipeline.startEvaluation(eval);
                err.println("Evaluate job started (attribution window " + attributionWindow.toSeconds() + " s); a minute's ModelEval "
                        + "comes once its last window closed");
                err.flush();
            }
            responses.apply(generator, seed).start();
            long start = System.nanoTime();
            long end = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
            Outage outageRun = outageAt == null ? null : Outage.start(pipeline, outageAt, outage, err);
            Timeline rows = new Timeline(recoveredP99);
            boolean warm = warmup.isZero();
            ThreadCpu cpuAtWarm = ThreadCpu.now();
            long scoresAtWarm = 0;
            long lastClicks = 0;
            long lastRequests = 0;
            long lastScores = 0;
            long lastCheckpoints = pipeline.checkpointsTriggered();
            while (System.nanoTime() < end && !stop.await(Math.min(1000, Math.max(1, (end - System.nanoTime()) / 1_000_000)),
                    TimeUnit.MILLISECONDS)) {
                Histogram h = reader.interval();
                long second = (System.nanoTime() - start) / 1_000_000_000L;
                if (!warm && System.nanoTime() - start >= warmup.toNanos()) {
                    reader.resetTotal(); // the summary counts from here
                    warm = true;
                    cpuAtWarm = ThreadCpu.now();
                    scoresAtWarm = reader.scores();
                }
                long c = generator.clicks();
                long r = generator.requests();
                long s = reader.scores();
                long checkpoints = pipeline.checkpointsTriggered();
                // "checkpoint" marks a second in which a checkpoint started or was still running
                boolean checkpointing = checkpoints >= 0 && lastCheckpoints >= 0
                        && (checkpoints != lastCheckpoints || pipeline.checkpointInProgress());
                String phase = !warm ? "warmup" : outageRun == null ? "run" : outageRun.phase();
                err.printf("clicks/s=%d requests/s=%d scores/s=%d p50_ms=%d p99_ms=%d max_ms=%d dead_letters=%d expired=%d%s%s%n",
                        c - lastClicks, r - lastRequests, s - lastScores, h.getValueAtPercentile(50),
                        h.getValueAtPercentile(99), h.getMaxValue(), reader.deadLetters(), reader.expired(),
                        checkpointing ? " checkpoint" : "", phase.equals("run") ? "" : " " + phase);
                rows.add(second, r - lastRequests, s - lastScores, h, checkpointing, phase,
                        outageRun == null ? -1 : outageRun.resumedAt(start));
                lastCheckpoints = checkpoints;
                err.flush();
                lastClicks = c;
                lastRequests = r;
                lastScores = s;
            }
            if (outageRun != null) {
                outageRun.await();
            }
            cpu(pipeline, rows, cpuAtWarm, reader.scores() - scoresAtWarm, err);
            if (timeline != null) {
                rows.write(timeline);
                err.println("Timeline: " + timeline.toAbsolutePath());
            }
            err.println("Stopping: draining scores of requests in flight ...");
            err.flush();
            generator.close();
            drain(reader, generator.validRequests(), job.exactlyOnce());
            reader.close();
            if (evaluate) {
                printEvaluations(pipeline, err);
            }
            Histogram total = reader.total();
            long unscored = Math.max(0, generator.validRequests() - reader.scoredRequests());
            out.printf("summary clicks=%d requests=%d scores=%d dead_letters=%d unscored=%d expired=%d p50_ms=%d p99_ms=%d max_ms=%d%s%n",
                    generator.clicks(), generator.requests(), reader.scores(), reader.deadLetters(), unscored,
                    reader.expired(), total.getValueAtPercentile(50), total.getValueAtPercentile(99), total.getMaxValue(),
                    outageAt == null ? "" : " recovered_after_s=" + recovered(rows.recoveredAfterSeconds()));
            out.flush();
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down (Ctrl-C): the hook is what let us get here
            }
        }
        return 0;
    }

    /** Prints the ModelEval records written so far, one line each (committed ones: the evaluate job's transactions). */
    private static void printEvaluations(EmbeddedPipeline pipeline, PrintWriter err) {
        var decoder = io.dienflink.kafka.AvroMessages.decoder(io.dienflink.avro.ModelEval.class);
        java.util.List<io.dienflink.avro.ModelEval> all = new java.util.ArrayList<>();
        try (var consumer = io.dienflink.kafka.KafkaClients.reader(pipeline.bootstrapServers(), new java.util.Properties(),
                "demo-eval", true, true)) {
            consumer.subscribe(java.util.List.of(io.dienflink.evaluate.EvaluateOptions.MODEL_EVAL_TOPIC.defaultValue()));
            long quietUntil = System.currentTimeMillis() + 3_000;
            while (System.currentTimeMillis() < quietUntil) {
                for (var r : consumer.poll(Duration.ofMillis(250))) {
                    io.dienflink.avro.ModelEval e = decoder.decode(r.value());
                    all.add(e);
                    err.printf(java.util.Locale.ROOT, "eval minute=%s role=%s model=%s labelled=%d positives=%d auc=%.4f "
                                    + "log_loss=%.4f ne=%.4f calibration=%.3f dropped=%d%s%n", e.getMinute(), e.getRole(),
                            e.getModelVersion(), e.getLabelled(), e.getPositives(), e.getAuc(), e.getLogLoss(),
                            e.getNormalizedEntropy(), e.getCalibration(), e.getDroppedPending(),
                            e.getAucDifference() == null ? "" : String.format(java.util.Locale.ROOT,
                                    " auc_difference=%.4f±%.4f psi=%.3f", e.getAucDifference(),
                                    1.96 * Math.sqrt(e.getAucDifferenceVariance()), e.getPsi()));
                }
            }
        } catch (java.io.IOException e) {
            err.println("could not read the evaluation: " + e);
        }
        if (!all.isEmpty()) { // what `eval-report` prints for the run's whole range
            io.dienflink.offline.EvalReport report = io.dienflink.offline.EvalReport.of(all, null, null, null, null);
            io.dienflink.offline.EvalReportText.lines(io.dienflink.evaluate.EvaluateOptions.MODEL_EVAL_TOPIC.defaultValue(),
                    new io.dienflink.offline.TopicSnapshot.Counts(all.size(), 0), report, false).forEach(err::println);
        }
        err.flush();
    }

    /**
     * One line on stderr with what the run's steady part (after --warmup) cost: CPU time of the
     * scorer's task threads per score (the clicks they apply included) and of the shadow challenger
     * (its task and executor threads) per shadow request (scores × share), read from this JVM's
     * threads ({@link ThreadCpu}), the hand-off's counts since the start from the metrics, and the
     * median and worst per-second p99:
     * {@code cpu seconds=… scores=… scorer_cpu_s=… scorer_cpu_us_per_score=… challenger_cpu_s=…
     * shadow_requests=… shadow_dropped=… shadow_failed=… challenger_cpu_us_per_shadow=… shadow_handed_off=… shadow_queued=…
     * p99_ms_median=… p99_ms_worst=…}.
     */
    private static void cpu(EmbeddedPipeline pipeline, Timeline rows, ThreadCpu before, long scores, PrintWriter err) {
        ThreadCpu after = ThreadCpu.now();
        long scorer = after.since(before, n -> n.contains(DienScoringJob.SCORER_NAME));
        long challenger = after.since(before, n -> n.contains(ShadowStage.CHALLENGER_NAME) || n.startsWith("shadow-challenger-"));
        // Flink's REST API serves metric values up to metrics.fetcher.update-interval old, too stale for a
        // difference over the run: the shadow requests of the run are its scores times the share, less the
        // drops (reported, and 0 in a healthy run)
        double shadowShare = pipeline.config().shadow().shadowOn() ? pipeline.config().shadow().shadowShare() : 0;
        long shadow = Math.round(scores * shadowShare);
        Timeline.Stats stats = rows.stats(Long.MAX_VALUE);
        err.printf("Machine: %s%n", io.dienflink.bench.MachineInfo.current());
        err.printf(java.util.Locale.ROOT, "cpu seconds=%d scores=%d scorer_cpu_s=%.2f scorer_cpu_us_per_score=%.1f "
                        + "challenger_cpu_s=%.2f shadow_requests=%d shadow_dropped=%d shadow_failed=%d "
                        + "challenger_cpu_us_per_shadow=%.1f shadow_handed_off=%d shadow_queued=%d p99_ms_median=%d p99_ms_worst=%d%n",
                stats.seconds(), scores, scorer / 1e9, scores == 0 ? 0.0 : scorer / 1e3 / scores, challenger / 1e9, shadow,
                pipeline.operatorMetricSum(ShadowStage.CHALLENGER_NAME, "shadowDropped"),
                pipeline.operatorMetricSum(ShadowStage.CHALLENGER_NAME, "shadowFailed"),
                shadow == 0 ? 0.0 : challenger / 1e3 / shadow,
                pipeline.operatorMetricSum(DienScoringJob.SCORER_NAME, "shadowHandedOff"),
                pipeline.operatorMetricSum(ShadowStage.CHALLENGER_NAME, "shadowQueued"), stats.p99Median(), stats.p99Worst());
        err.flush();
    }

    private static String recovered(double seconds) {
        return seconds < 0 ? "-1" : String.format(java.util.Locale.ROOT, "%.1f", seconds);
    }

    /** Waits until every valid request sent is scored or expired, or answers stop arriving (bounded). */
    private static void drain(ScoreReader reader, long expectedAtLeast, boolean exactlyOnce) throws InterruptedException {
        long deadline = System.currentTimeMillis() + (exactlyOnce ? 15_000 : 5_000);
        long last = -1;
        while (System.currentTimeMillis() < deadline && reader.scoredRequests() + reader.expired() < expectedAtLeast) {
            Thread.sleep(250);
            long answered = reader.scoredRequests() + reader.expired();
            if (answered == last && System.currentTimeMillis() > deadline - 2_000) {
                break;
            }
            last = answered;
        }
    }
}

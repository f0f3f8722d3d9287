package io.dienflink.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.Topics;
import io.dienflink.local.FlinkCli;
import io.dienflink.local.JobJar;
import io.dienflink.local.LocalCluster;
import io.dienflink.traffic.ScoreReader;
import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.traffic.TrafficGenerator;
import io.dienflink.verify.CatchUp;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cluster-bench}: the job on the local cluster (JobManager, 2 TaskManagers and the broker as
 * processes) under the demo's traffic, measured as a platform team would measure its own cluster:
 * per-second latency, checkpoint phases, changelog materializations and the TaskManagers' CPU time.
 */
@Command(name = "cluster-bench", mixinStandardHelpOptions = true,
        description = {"Starts a local cluster in --work-dir (2 TaskManagers of 2 slots; -D lines added to its config.yaml),",
                "submits the job jar (parallelism 2), fills every window of --users users (--fill-clicks-per-user),",
                "waits for the job to apply them, then runs the demo's traffic for --warmup plus --measure and prints one",
                "`cluster-bench ...` summary line: per-second p50/p99 medians, worst p99, max, checkpoint sync/async",
                "durations and sizes of the scorer, materializations, and TaskManager CPU per click. Stops the cluster."})
final class ClusterBenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCORER_VERTEX = io.dienflink.job.DienScoringJob.SCORER_NAME;

    @CommandLine.Mixin
    LocalClusterCommand.WorkDir dir = new LocalClusterCommand.WorkDir();

    @Option(names = "--label", defaultValue = "shipped", description = "Name of this configuration in the output. Default: ${DEFAULT-VALUE}")
    String label;

    @Option(names = "-D", paramLabel = "KEY=VALUE", mapFallbackValue = "",
            description = "A line of the cluster's Flink config.yaml (repeatable), e.g. -D state.changelog.enabled=true.")
    Map<String, String> flinkConfig = new LinkedHashMap<>();

    @Option(names = "--users", defaultValue = "10000", description = "Synthetic users. Default: ${DEFAULT-VALUE}")
    int users;

    @Option(names = "--fill-clicks-per-user", defaultValue = "30",
            description = "Clicks of every user sent before the traffic (the demo bundle's T = 30 fills every window; 0: none). Default: ${DEFAULT-VALUE}")
    int fillClicksPerUser;

    @Option(names = "--warmup", converter = DurationConverter.class, defaultValue = "60s", description = "Default: ${DEFAULT-VALUE}")
    Duration warmup;

    @Option(names = "--measure", converter = DurationConverter.class, defaultValue = "5m", description = "Default: ${DEFAULT-VALUE}")
    Duration measure;

    @Option(names = "--clicks-per-second", defaultValue = "5000", description = "Default: ${DEFAULT-VALUE}")
    double clicksPerSecond;

    @Option(names = "--requests-per-second", defaultValue = "200", description = "Default: ${DEFAULT-VALUE}")
    double requestsPerSecond;

    @Option(names = "--candidates", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}")
    int candidates;

    @Option(names = "--model", defaultValue = "bundles/demo", paramLabel = "DIR", description = "Default: ${DEFAULT-VALUE}")
    Path model;

    @Option(names = "--job-jar", paramLabel = "JAR",
            description = "Default: target/dien-flink-job.jar if it exists, else target/dien-flink.jar")
    Path jobJar;

    @Option(names = "--timeline", paramLabel = "FILE", description = "Write the per-second rows (demo --timeline CSV) to FILE.")
    Path timeline;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path jar = JobJar.resolve(jobJar);
        LocalCluster cluster = dir.cluster();
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("web.checkpoints.history", "1000"); // every checkpoint of the run stays readable
        conf.putAll(flinkConfig);
        cluster.up(new LocalCluster.Settings(2, 2, 0, conf));
        String jobId = null;
        try {
            String servers = cluster.bootstrapServers();
            String id = "bench-" + label + "-" + System.currentTimeMillis();
            Topics topics = Topics.prefixed(id);
            Properties admin = new Properties();
            admin.put("bootstrap.servers", servers);
            KafkaClients.createTopics(admin, 2, topics.all());
            jobId = FlinkCli.submitJob(cluster, jar, null, servers, model, FlinkCli.ownTopics(topics, id));
            note(err, "job " + jobId + " submitted");
            SyntheticWorld world = SyntheticWorld.demo(users, 7);
            try (ScoreReader reader = new ScoreReader(servers, new Properties(), topics, false, false).start()) {
                TrafficGenerator probe = new TrafficGenerator(servers, topics, world, new TrafficGenerator.Rates(1, 1, 1, 0, 0, 0));
                try (probe) {
                    // a probe sent before the job's sources started is skipped (they start at the latest
                    // offset) or expires (dien.request.max-age): send one every 2 s until one is scored
                    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                    for (int n = 0; ; n++) {
                        probe.probe(ScoreReader.PROBE_PREFIX + "start-" + n);
                        if (reader.awaitProbe(ScoreReader.PROBE_PREFIX + "start-" + n, Duration.ofSeconds(2))) {
                            break;
                        }
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("the job scored nothing within 3 minutes; see " + cluster.logDir());
                        }
                    }
                    note(err, "scoring; subtasks per TaskManager " + cluster.subtasksByTaskManager(jobId));
                    long filled = System.nanoTime();
                    if (fillClicksPerUser > 0) {
                        probe.fill(fillClicksPerUser);
                        if (!CatchUp.await(servers, topics, id, Duration.ofMinutes(30))) {
                            throw new IllegalStateException("the job did not apply the fill within 30 minutes");
                        }
                    }
                    note(err, String.format(Locale.ROOT, "filled %d users × %d clicks in %.1f s", users, fillClicksPerUser,
                            (System.nanoTime() - filled) / 1e9));
                }
                Summary s = measure(cluster, jobId, servers, topics, world, reader, err);
                out.println(s.line(label, users));
                out.flush();
            }
            return 0;
        } finally {
            if (jobId != null) {
                FlinkCli.run(cluster, List.of("cancel", jobId), new PrintWriter(new StringWriter()));
            }
            cluster.down();
        }
    }

    private Summary measure(LocalCluster cluster, String jobId, String servers, Topics topics, SyntheticWorld world,
                            ScoreReader reader, PrintWriter err) throws Exception {
        Timeline rows = new Timeline(Long.MAX_VALUE);
        TrafficGenerator traffic = new TrafficGenerator(servers, topics, world, new TrafficGenerator.Rates(clicksPerSecond,
                requestsPerSecond, candidates, 0.001, Long.MAX_VALUE, Long.MAX_VALUE));
        String scorer = scorerVertex(cluster, jobId);
        long[] atStart = new long[4]; // wall ms, TaskManager CPU ns, clicks, requests when the measured seconds begin
        try (traffic) {
            traffic.start();
            ScoreLatency.follow(reader, rows, warmup, warmup.plus(measure), new ScoreLatency.CheckpointMarks(cluster.restAddress()),
                    () -> {
                        atStart[0] = System.currentTimeMillis();
                        atStart[1] = taskManagerCpuNanos(cluster);
                        atStart[2] = traffic.clicks();
                        atStart[3] = traffic.requests();
                    },
                    row -> {
                        if (row.second() % 10 == 0) {
                            note(err, String.format(Locale.ROOT, "%s s=%d scores/s=%d p99_ms=%d max_ms=%d", label, row.second(),
                                    row.scores(), row.p99(), row.max()));
                        }
                    });
            long cpuNanos = taskManagerCpuNanos(cluster) - atStart[1];
            long clicks = traffic.clicks() - atStart[2];
            long requests = traffic.requests() - atStart[3];
            long endMs = System.currentTimeMillis();
            if (timeline != null) {
                rows.write(timeline);
            }
            return new Summary(rows.stats(30), clicks, requests, (endMs - atStart[0]) / 1000.0, cpuNanos,
                    checkpoints(cluster, jobId, scorer, atStart[0], endMs), materializations(cluster, atStart[0], endMs));
        }
    }

    /** The TaskManager processes' CPU time (user + system), summed. */
    private static long taskManagerCpuNanos(LocalCluster cluster) {
        long sum = 0;
        List<String> tms;
        try {
            tms = cluster.runningTaskManagers();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (String tm : tms) {
            java.util.OptionalLong pid;
            try {
                pid = cluster.pid(tm);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (pid.isPresent()) {
                sum += ProcessHandle.of(pid.getAsLong()).flatMap(h -> h.info().totalCpuDuration()).map(Duration::toNanos).orElse(0L);
            }
        }
        return sum;
    }

    private static JsonNode rest(LocalCluster cluster, String path) throws Exception {
        return JSON.readTree(cluster.get(path).orElseThrow(() -> new IllegalStateException("REST " + path + " did not answer")));
    }

    private static String scorerVertex(LocalCluster cluster, String jobId) throws Exception {
        for (JsonNode v : rest(cluster, "/jobs/" + jobId).path("vertices")) {
            if (v.path("name").asText().contains(SCORER_VERTEX)) {
                return v.path("id").asText();
            }
        }
        throw new IllegalStateException("no vertex named like '" + SCORER_VERTEX + "' in job " + jobId);
    }

    /**
     * Changelog materializations that finished between two wall-clock times, read from the
     * TaskManagers' logs (the changelog backend's INFO line "... finishes materialization ..."; its
     * metrics are not in the REST API's vertex metrics), as seconds after {@code fromMs}.
     */
    private static List<Long> materializations(LocalCluster cluster, long fromMs, long toMs) throws Exception {
        List<Long> out = new ArrayList<>();
        java.time.ZoneId zone = java.time.ZoneId.systemDefault();
        java.time.LocalDate day = java.time.Instant.ofEpochMilli(fromMs).atZone(zone).toLocalDate();
        try (var logs = Files.list(cluster.logDir())) {
            for (Path log : logs.filter(p -> p.getFileName().toString().startsWith("tm-")).toList()) {
                for (String line : Files.readAllLines(log)) {
                    if (!line.contains("finishes materialization") || line.length() < 12) {
                        continue;
                    }
                    long at = java.time.LocalTime.parse(line.substring(0, 12)).atDate(day).atZone(zone).toInstant().toEpochMilli();
                    if (at >= fromMs && at <= toMs) {
                        out.add((at - fromMs) / 1000);
                    }
                }
            }
        }
        Collections.sort(out);
        return out;
    }

    /** One completed checkpoint: the scorer's slowest subtask's sync and async ms, and the checkpoint's bytes. */
    record Checkpoint(long syncMs, long asyncMs, long checkpointedBytes, long stateBytes) {}

    private static List<Checkpoint> checkpoints(LocalCluster cluster, String jobId, String scorer, long fromMs, long toMs)
            throws Exception {
        List<Checkpoint> out = new ArrayList<>();
        for (JsonNode h : rest(cluster, "/jobs/" + jobId + "/checkpoints").path("history")) {
            long at = h.path("trigger_timestamp").asLong();
            if (!"COMPLETED".equals(h.path("status").asText()) || at < fromMs || at > toMs) {
                continue;
            }
            long sync = 0;
            long async = 0;
            for (JsonNode st : rest(cluster, "/jobs/" + jobId + "/checkpoints/details/" + h.path("id").asLong()
                    + "/subtasks/" + scorer).path("subtasks")) {
                sync = Math.max(sync, st.path("checkpoint").path("sync").asLong());
                async = Math.max(async, st.path("checkpoint").path("async").asLong());
            }
            out.add(new Checkpoint(sync, async, h.path("checkpointed_size").asLong(), h.path("state_size").asLong()));
        }
        return out;
    }

    private record Summary(Timeline.Stats latency, long clicks, long requests, double seconds, long cpuNanos,
                           List<Checkpoint> checkpoints, List<Long> materializedAtS) {
        String line(String label, int users) {
            return String.format(Locale.ROOT, "cluster-bench config=%s users=%d seconds=%.0f clicks_per_s=%.0f "
                            + "requests_per_s=%.0f p50_ms_median=%d p99_ms_median=%d p99_ms_worst=%d max_ms=%d "
                            + "seconds_p99_over_30ms=%d checkpoints=%d sync_ms_median=%d sync_ms_max=%d async_ms_median=%d "
                            + "async_ms_max=%d checkpointed_mb_median=%.1f state_mb_last=%.1f materializations=%d materialized_at_s=%s "
                            + "tm_cpu_cores=%.2f tm_cpu_us_per_click=%.1f",
                    label, users, seconds, clicks / seconds, requests / seconds, latency.p50Median(), latency.p99Median(),
                    latency.p99Worst(), latency.max(), latency.secondsOverGoal(), checkpoints.size(),
                    median(checkpoints, Checkpoint::syncMs), checkpoints.stream().mapToLong(Checkpoint::syncMs).max().orElse(-1),
                    median(checkpoints, Checkpoint::asyncMs), checkpoints.stream().mapToLong(Checkpoint::asyncMs).max().orElse(-1),
                    median(checkpoints, Checkpoint::checkpointedBytes) / 1e6,
                    checkpoints.isEmpty() ? -1 : checkpoints.get(0).stateBytes() / 1e6, materializedAtS.size(),
                    materializedAtS.isEmpty() ? "-" : materializedAtS.stream().map(String::valueOf)
                            .collect(java.util.stream.Collectors.joining(",")),
                    cpuNanos / 1e9 / seconds, clicks == 0 ? -1 : cpuNanos / 1e3 / clicks);
        }

        private static long median(List<Checkpoint> checkpoints, java.util.function.ToLongFunction<Checkpoint> field) {
            return Timeline.median(checkpoints.stream().map(c -> field.applyAsLong(c)).sorted().toList());
        }
    }

    private static void note(PrintWriter err, String text) {
        err.println("cluster-bench: " + text);
        err.flush();
    }
}

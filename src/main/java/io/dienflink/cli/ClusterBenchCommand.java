package io.dienflink.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dienflink.bench.ModelCapacity;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.Topics;
import io.dienflink.local.FlinkCli;
import io.dienflink.local.JobJar;
import io.dienflink.local.LocalCluster;
import io.dienflink.local.SavepointFiles;
import io.dienflink.traffic.FirstScore;
import io.dienflink.traffic.ProbeStream;
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
 * For runs at scale it can start from a savepoint instead of filling the state through Kafka, and
 * after the measured window rescale the job and upgrade its model through savepoints, timing each
 * restart to the first score.
 */
@Command(name = "cluster-bench", mixinStandardHelpOptions = true,
        description = {"Starts a local cluster in --work-dir (2 TaskManagers of 2 slots; -D lines added to its config.yaml) and",
                "submits the job jar (parallelism 2). Then either fills every window of --users users through Kafka",
                "(--fill-clicks-per-user) and waits for the job to apply them, or, with --from-savepoint DIR, submits the job",
                "restored from DIR (claimed; --keep-savepoint restores a copy) and times restore to first score while probes",
                "run. Measures the TaskManagers' idle CPU (--idle), runs the demo's traffic (--request-users: which users",
                "the requests go to) for --warmup plus --measure, and, if asked, then rescales the job to",
                "--rescale-to-taskmanagers M and/or upgrades it to the bundle --upgrade-to DIR through stop-with-savepoint",
                "and resubmission, each timed to its first score with the p99 of the --after-restart seconds after it.",
                "Prints one `cluster-bench key=value ...` line: per-second p50/p99 medians, worst p99, max, checkpoints,",
                "materializations, TaskManager CPU per click, per request and per event (idle subtracted), the model",
                "core's CPU per request measured in this process, and the restore/rescale/upgrade figures of the phases",
                "that ran. Stops the cluster."})
final class ClusterBenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCORER_VERTEX = io.dienflink.job.DienScoringJob.SCORER_NAME;
    /** Probes while a job is (re)submitted: a fresh request every this often, so the first score is timed to within it. */
    private static final Duration PROBE_EVERY = Duration.ofMillis(100);
    /** Restoring millions of users from a canonical savepoint rewrites every one of them into RocksDB. */
    private static final Duration RESTORE_TIMEOUT = Duration.ofHours(1);
    /** A (re)submitted job that failed this often is not coming up; waiting out {@link #RESTORE_TIMEOUT} would tell nothing more. */
    private static final int MAX_FAILURES = 3;
    /** Users whose full windows the model-core measurement builds: the cost of a request does not depend on who asks. */
    private static final int MODEL_CPU_USERS = 1_000;

    @CommandLine.Mixin
    LocalClusterCommand.WorkDir dir = new LocalClusterCommand.WorkDir();

    @Option(names = "--label", defaultValue = "shipped", description = "Name of this configuration in the output. Default: ${DEFAULT-VALUE}")
    String label;

    @Option(names = "-D", paramLabel = "KEY=VALUE", mapFallbackValue = "",
            description = "A line of the cluster's Flink config.yaml (repeatable), e.g. -D state.changelog.enabled=true.")
    Map<String, String> flinkConfig = new LinkedHashMap<>();

    @Option(names = "--job-setting", paramLabel = "KEY=VALUE",
            description = "A setting of the job (repeatable), given to it as -DKEY=VALUE at every submission: dien.* keys "
                    + "(docs/job.md), and Flink settings the job sets itself unless given, e.g. execution.buffer-timeout "
                    + "(a -D line in the cluster's config.yaml does not override those).")
    Map<String, String> jobSettings = new LinkedHashMap<>();

    @Option(names = "--users", defaultValue = "10000",
            description = "Synthetic users SyntheticWorld.id(0 … N-1): those the fill fills (or the savepoint holds) and the traffic goes to. Default: ${DEFAULT-VALUE}")
    int users;

    @Option(names = "--fill-clicks-per-user", defaultValue = "30",
            description = "Clicks of every user sent before the traffic (the demo bundle's T = 30 fills every window; 0: none; not used with --from-savepoint). Default: ${DEFAULT-VALUE}")
    int fillClicksPerUser;

    @Option(names = "--from-savepoint", paramLabel = "DIR",
            description = "Submit the job restored from this savepoint (directory or file: URI) instead of filling through Kafka, and "
                    + "print restore_first_score_s (submission to the first score of a request sent after it), restore_running_s "
                    + "(to every scorer subtask RUNNING) and restore_state_mb (the scorer's full state in the first checkpoint). "
                    + "The restore CLAIMs the savepoint: Flink deletes it once the job's checkpoints subsume it; see --keep-savepoint.")
    String fromSavepoint;

    @Option(names = "--keep-savepoint",
            description = "Restore from a copy of --from-savepoint made in the work directory, so the original survives.")
    boolean keepSavepoint;

    @Option(names = "--request-users", defaultValue = "uniform", paramLabel = "uniform|hot:K", converter = RequestUsersConverter.class,
            description = "Which users the requests go to: uniform (every one of --users equally likely; most requests then miss "
                    + "RocksDB's caches at millions of users) or hot:K (the first K users only). Clicks always go to all. Default: ${DEFAULT-VALUE}")
    io.dienflink.traffic.RequestUsers requestUsers;

    @Option(names = "--idle", converter = DurationConverter.class, defaultValue = "10s",
            description = "Measure the TaskManagers' CPU this long without traffic before the warm-up (0s: not measured). Default: ${DEFAULT-VALUE}")
    Duration idle;

    @Option(names = "--warmup", converter = DurationConverter.class, defaultValue = "60s", description = "Default: ${DEFAULT-VALUE}")
    Duration warmup;

    @Option(names = "--measure", converter = DurationConverter.class, defaultValue = "5m", description = "Default: ${DEFAULT-VALUE}")
    Duration measure;

    @Option(names = "--clicks-per-second", defaultValue = "5000",
            description = "0: no clicks (a run of requests alone). Default: ${DEFAULT-VALUE}")
    double clicksPerSecond;

    @Option(names = "--requests-per-second", defaultValue = "200",
            description = "0: no requests (a run of clicks alone). Default: ${DEFAULT-VALUE}")
    double requestsPerSecond;

    @Option(names = "--candidates", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}")
    int candidates;

    @Option(names = "--model", defaultValue = "bundles/demo", paramLabel = "DIR", description = "Default: ${DEFAULT-VALUE}")
    Path model;

    @Option(names = "--model-cpu-requests", defaultValue = "20000", paramLabel = "K",
            description = "Requests the model core scores on one thread of this process, before the cluster starts, for "
                    + "model_cpu_us_per_request (0: not measured). Default: ${DEFAULT-VALUE}")
    int modelCpuRequests;

    @Option(names = "--rescale-to-taskmanagers", defaultValue = "0", paramLabel = "M",
            description = "After the measured window: start TaskManagers up to M, stop the job with a savepoint and resubmit it "
                    + "from it at parallelism M (rescale_* keys). 0: no rescale. Default: ${DEFAULT-VALUE}")
    int rescaleTo;

    @Option(names = "--upgrade-to", paramLabel = "DIR",
            description = "After the measured window (and the rescale): stop the job with a savepoint and resubmit it from it "
                    + "with this bundle (upgrade_* keys; upgrade_first_score_s counts scores of the new bundle's fingerprint only).")
    Path upgradeTo;

    @Option(names = "--after-restart", converter = DurationConverter.class, defaultValue = "60s",
            description = "How long after a rescale's or upgrade's first score its p99 and max are taken. Default: ${DEFAULT-VALUE}")
    Duration afterRestart;

    @Option(names = "--job-jar", paramLabel = "JAR",
            description = "Default: target/dien-flink-job.jar if it exists, else target/dien-flink.jar")
    Path jobJar;

    @Option(names = "--timeline", paramLabel = "FILE", description = "Write the per-second rows (demo --timeline CSV) to FILE.")
    Path timeline;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Parses {@code --request-users}. */
    static final class RequestUsersConverter implements CommandLine.ITypeConverter<io.dienflink.traffic.RequestUsers> {
        @Override
        public io.dienflink.traffic.RequestUsers convert(String value) {
            return io.dienflink.traffic.RequestUsers.parse(value);
        }
    }

    // the run's state, set as it goes (one run per command object)
    private LocalCluster cluster;
    private Path jar;
    private String servers;
    private Topics topics;
    private String runId;
    private String jobId;
    private int parallelism = 2;
    private ScoreReader reader;
    /** Sends the probes (never started: its producer is shared with the probe streams). */
    private TrafficGenerator prober;
    private PrintWriter err;

    /**
     * Refuses options that cannot work together, before anything starts.
     *
     * @throws CommandLine.ParameterException naming the option and the fix
     */
    void validate() {
        List<String> problems = new ArrayList<>();
        if (users < 1 || candidates < 1) {
            problems.add("--users and --candidates must be positive");
        }
        if (clicksPerSecond < 0 || requestsPerSecond < 0) {
            problems.add("--clicks-per-second and --requests-per-second must not be negative (0: none)");
        }
        if (keepSavepoint && fromSavepoint == null) {
            problems.add("--keep-savepoint keeps a copy of --from-savepoint, which is not given");
        }
        if (fromSavepoint != null && !Files.isRegularFile(SavepointFiles.directory(fromSavepoint).resolve("_metadata"))) {
            problems.add("--from-savepoint " + fromSavepoint + ": no savepoint there (no _metadata file)");
        }
        if (requestUsers.hot() != Integer.MAX_VALUE && requestUsers.hot() > users) {
            problems.add("--request-users " + requestUsers + ": more hot users than --users " + users);
        }
        if (rescaleTo < 0) {
            problems.add("--rescale-to-taskmanagers must be at least 1 (0: no rescale)");
        }
        if (upgradeTo != null && !Files.exists(upgradeTo)) {
            problems.add("--upgrade-to " + upgradeTo + ": no bundle there");
        }
        if (idle.isNegative() || modelCpuRequests < 0) {
            problems.add("--idle and --model-cpu-requests must not be negative (0: not measured)");
        }
        if ((rescaleTo > 0 || upgradeTo != null) && (afterRestart.isNegative() || afterRestart.isZero())) {
            problems.add("--after-restart must be positive with --rescale-to-taskmanagers or --upgrade-to");
        }
        if (!problems.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), String.join("\n", problems));
        }
    }

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        jar = JobJar.resolve(jobJar);
        // before the cluster starts: this process then has the machine to itself
        ClusterBenchLine.ModelCpu modelCpu = modelCpu();
        String upgradeFingerprint = upgradeTo == null ? null : io.dienflink.model.ModelBundle.load(upgradeTo).fingerprint();
        cluster = dir.cluster();
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("web.checkpoints.history", "1000"); // every checkpoint of the run stays readable
        conf.putAll(flinkConfig);
        cluster.up(new LocalCluster.Settings(2, 2, 0, conf));
        try {
            servers = cluster.bootstrapServers();
            runId = "bench-" + label + "-" + System.currentTimeMillis();
            topics = Topics.prefixed(runId);
            Properties admin = new Properties();
            admin.put("bootstrap.servers", servers);
            KafkaClients.createTopics(admin, 2, io.dienflink.local.FlinkCli.runTopics(topics));
            SyntheticWorld world = SyntheticWorld.demo(users, 7);
            try (ScoreReader r = new ScoreReader(servers, new Properties(), topics, false, false).start();
                 TrafficGenerator p = new TrafficGenerator(servers, topics, world, new TrafficGenerator.Rates(1, 1, 1, 0, 0, 0))) {
                reader = r;
                prober = p;
                ClusterBenchLine.Restart restore = null;
                if (fromSavepoint != null) {
                    restore = restore();
                } else {
                    submitAndFill();
                }
                double idleCores = idleCores();
                TrafficGenerator traffic = new TrafficGenerator(servers, topics, world, new TrafficGenerator.Rates(clicksPerSecond,
                        requestsPerSecond, candidates, 0.001, clicksPerSecond > 0 ? Long.MAX_VALUE : 0,
                        requestsPerSecond > 0 ? Long.MAX_VALUE : 0)).requestUsers(requestUsers);
                try (traffic) {
                    ClusterBenchLine.Measured measured = measure(traffic, idleCores);
                    // the traffic goes on through the restarts, as an ad server's would
                    ClusterBenchLine.Restart rescale = null;
                    ClusterBenchLine.Restart upgrade = null;
                    int exit = 0;
                    try {
                        if (rescaleTo > 0) {
                            rescale = rescale();
                        }
                        if (upgradeTo != null) {
                            upgrade = upgrade(upgradeFingerprint);
                        }
                    } catch (Exception e) {
                        // the measured window cost minutes (hours at scale): print it with what did work
                        note("failed after the measured window: " + e);
                        exit = 1;
                    }
                    out.println(ClusterBenchLine.line(label, users, requestUsers.toString(), measured, modelCpu, restore, rescaleTo,
                            rescale, upgrade, afterRestart.toSeconds()));
                    out.flush();
                    return exit;
                }
            }
        } finally {
            if (jobId != null) {
                FlinkCli.run(cluster, List.of("cancel", jobId), new PrintWriter(new StringWriter()));
            }
            cluster.down();
        }
    }

    /** The job submitted fresh, then every window filled through Kafka (the run without a savepoint). */
    private void submitAndFill() throws Exception {
        jobId = FlinkCli.submitJob(cluster, jar, null, servers, model, jobSettings());
        note("job " + jobId + " submitted");
        // a probe sent before the job's sources started is skipped (they start at the latest
        // offset) or expires (dien.request.max-age): send one every 2 s until one is scored
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        for (int n = 0; ; n++) {
            prober.probe(ScoreReader.PROBE_PREFIX + "start-" + n);
            if (reader.awaitProbe(ScoreReader.PROBE_PREFIX + "start-" + n, Duration.ofSeconds(2))) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the job scored nothing within 3 minutes; see " + cluster.logDir());
            }
        }
        note("scoring; subtasks per TaskManager " + cluster.subtasksByTaskManager(jobId));
        long filled = System.nanoTime();
        if (fillClicksPerUser > 0) {
            prober.fill(fillClicksPerUser);
            if (!CatchUp.await(servers, topics, runId, Duration.ofMinutes(30))) {
                throw new IllegalStateException("the job did not apply the fill within 30 minutes");
            }
        }
        note(String.format(Locale.ROOT, "filled %d users × %d clicks in %.1f s", users, fillClicksPerUser,
                (System.nanoTime() - filled) / 1e9));
    }

    /** The job submitted from {@code --from-savepoint} (or its copy), timed to its first score. */
    private ClusterBenchLine.Restart restore() throws Exception {
        String snapshot = fromSavepoint;
        if (keepSavepoint) {
            Path copy = cluster.workDir().resolve("restored-savepoints")
                    .resolve(SavepointFiles.directory(fromSavepoint).getFileName() + "-" + System.currentTimeMillis());
            Files.createDirectories(copy.getParent());
            long t = System.nanoTime();
            snapshot = SavepointFiles.copy(fromSavepoint, copy).toUri().toString();
            note(String.format(Locale.ROOT, "copied the savepoint to %s in %.1f s; restoring from the copy", copy,
                    (System.nanoTime() - t) / 1e9));
        }
        long bytes = SavepointFiles.bytes(snapshot);
        note(String.format(Locale.ROOT, "restoring from %s (%.1f MB)", snapshot, bytes / 1e6));
        Submitted s = submitTimed("restore", snapshot, model, null);
        long state = firstCheckpointStateBytes(s.submittedAtMs(), Duration.ofMinutes(3));
        note("subtasks per TaskManager " + cluster.subtasksByTaskManager(jobId));
        return new ClusterBenchLine.Restart(Double.NaN, Double.NaN, bytes, s.firstScoreSeconds(), s.runningSeconds(), state, -1, -1);
    }

    /** TaskManagers up to {@code --rescale-to-taskmanagers}, then stop with a savepoint and resubmit at that parallelism. */
    private ClusterBenchLine.Restart rescale() throws Exception {
        int more = rescaleTo - cluster.runningTaskManagers().size();
        if (more > 0) {
            // started before the stop: the downtime is the job's, not the JVMs' start-up
            note("starting " + more + " more TaskManagers: " + cluster.addTaskManagers(more, Duration.ofMinutes(3)));
        }
        parallelism = rescaleTo;
        return restart("rescale", model, null);
    }

    /** Stop with a savepoint and resubmit with the bundle {@code --upgrade-to}. */
    private ClusterBenchLine.Restart upgrade(String fingerprint) throws Exception {
        return restart("upgrade", upgradeTo, fingerprint);
    }

    /**
     * Stops the job with a savepoint and resubmits it from that savepoint with {@code bundle}: the
     * stop's wall time, the savepoint's size, the times to every scorer running and to the first
     * score (of {@code fingerprint}'s model, if not null), then the p99 and max of the scores read
     * in the {@code --after-restart} after that first score, and the scorer's state in the new job's
     * first checkpoint.
     */
    private ClusterBenchLine.Restart restart(String phase, Path bundle, String fingerprint) throws Exception {
        long t = System.nanoTime();
        String stopped = jobId;
        String savepoint = FlinkCli.stopWithSavepoint(cluster, stopped);
        double stopSeconds = (System.nanoTime() - t) / 1e9;
        jobId = null;
        double savepointSeconds = savepointSeconds(stopped);
        // measured now: the resubmitted job claims the savepoint and Flink deletes it once subsumed
        long bytes = SavepointFiles.bytes(savepoint);
        note(String.format(Locale.ROOT, "%s: stopped with savepoint %s (%.1f MB) in %.1f s (the savepoint itself: %.1f s)", phase,
                savepoint, bytes / 1e6, stopSeconds, savepointSeconds));
        Submitted s = submitTimed(phase, savepoint, bundle, fingerprint);
        reader.interval(); // the latencies from the first score on
        Thread.sleep(afterRestart.toMillis());
        org.HdrHistogram.Histogram h = reader.interval();
        long state = firstCheckpointStateBytes(s.submittedAtMs(), Duration.ofMinutes(1));
        note(String.format(Locale.ROOT, "%s: %d scores in the %d s after the first, p99 %d ms, max %d ms", phase,
                h.getTotalCount(), afterRestart.toSeconds(), h.getValueAtPercentile(99), h.getMaxValue()));
        boolean scored = h.getTotalCount() > 0;
        return new ClusterBenchLine.Restart(stopSeconds, savepointSeconds, bytes, s.firstScoreSeconds(), s.runningSeconds(), state,
                scored ? h.getValueAtPercentile(99) : -1, scored ? h.getMaxValue() : -1);
    }

    /**
     * The duration of the newest savepoint of a job (stopped or running), trigger to completion, per
     * Flink's checkpoint statistics; NaN if the REST API does not list one. The stop's wall time
     * adds Flink's CLI (a JVM start) and the job's wind-down to it.
     */
    private double savepointSeconds(String job) throws Exception {
        java.util.Optional<String> stats = cluster.get("/jobs/" + job + "/checkpoints");
        if (stats.isEmpty()) {
            return Double.NaN;
        }
        long newest = -1;
        double seconds = Double.NaN;
        for (JsonNode h : JSON.readTree(stats.get()).path("history")) {
            if (h.path("is_savepoint").asBoolean() && "COMPLETED".equals(h.path("status").asText()) && h.path("id").asLong() > newest) {
                newest = h.path("id").asLong();
                seconds = h.path("end_to_end_duration").asLong() / 1000.0;
            }
        }
        return seconds;
    }

    /** A (re)submission: when it began, and the seconds from then to every scorer running and to the first score. */
    private record Submitted(long submittedAtMs, double runningSeconds, double firstScoreSeconds) {}

    /**
     * Submits the job from {@code snapshot} with {@code bundle} while a {@link ProbeStream} runs, and
     * waits for the first score of a request sent after the submission began (of {@code fingerprint}'s
     * model, if not null) and for every scorer subtask to be RUNNING (Flink's INITIALIZING ends when
     * the subtask's state is restored).
     */
    private Submitted submitTimed(String phase, String snapshot, Path bundle, String fingerprint) throws Exception {
        long t0 = System.currentTimeMillis();
        FirstScore first = reader.watchFirstScore(t0, fingerprint);
        double running = Double.NaN;
        try (ProbeStream probes = ProbeStream.start(prober, users, phase, PROBE_EVERY)) {
            jobId = FlinkCli.submitJob(cluster, jar, snapshot, servers, bundle, jobSettings());
            note(String.format(Locale.ROOT, "%s: job %s submitted at parallelism %d (%.1f s in Flink's CLI)", phase, jobId,
                    parallelism, (System.currentTimeMillis() - t0) / 1000.0));
            long deadline = System.nanoTime() + RESTORE_TIMEOUT.toNanos();
            long nextNote = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (Double.isNaN(running) || first.arrivedAtMs().isEmpty()) {
                if (Double.isNaN(running) && scorersRunning()) {
                    running = (System.currentTimeMillis() - t0) / 1000.0;
                }
                checkNotFailing();
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(phase + ": no score within " + RESTORE_TIMEOUT + "; see " + cluster.logDir());
                }
                if (System.nanoTime() > nextNote) {
                    nextNote += Duration.ofSeconds(30).toNanos();
                    note(String.format(Locale.ROOT, "%s: waiting, %.0f s after the submission, scorers running: %s", phase,
                            (System.currentTimeMillis() - t0) / 1000.0, !Double.isNaN(running)));
                }
                Thread.sleep(100);
            }
        }
        double firstScore = first.millis().getAsLong() / 1000.0;
        note(String.format(Locale.ROOT, "%s: scorers running after %.1f s, first score after %.1f s", phase, running, firstScore));
        return new Submitted(t0, running, firstScore);
    }

    /**
     * The run's job settings: its own topics, group and transactional ids, then {@code --job-setting}, then the
     * current parallelism.
     */
    private Map<String, String> jobSettings() {
        Map<String, String> s = FlinkCli.ownTopics(topics, runId);
        s.putAll(jobSettings);
        s.put(io.dienflink.job.DienJobOptions.PARALLELISM.key(), Integer.toString(parallelism));
        return s;
    }

    /** Whether every subtask of the scorer is RUNNING (REST {@code /jobs/:id}: the vertex's task counts). */
    private boolean scorersRunning() throws Exception {
        java.util.Optional<String> job = cluster.get("/jobs/" + jobId);
        if (job.isEmpty()) {
            return false;
        }
        for (JsonNode v : JSON.readTree(job.get()).path("vertices")) {
            if (v.path("name").asText().contains(SCORER_VERTEX)) {
                return v.path("tasks").path("RUNNING").asInt() == v.path("parallelism").asInt();
            }
        }
        return false;
    }

    /** Fails when the job has failed, or restarted {@value #MAX_FAILURES} times, with one of its exceptions. */
    private void checkNotFailing() throws Exception {
        java.util.Optional<String> job = cluster.get("/jobs/" + jobId);
        String state = job.isEmpty() ? "" : JSON.readTree(job.get()).path("state").asText();
        JsonNode failures = JSON.readTree(cluster.get("/jobs/" + jobId + "/exceptions").orElse("{}"))
                .path("exceptionHistory").path("entries");
        if ("FAILED".equals(state) || failures.size() >= MAX_FAILURES) {
            String one = failures.size() == 0 ? "(no exception recorded)"
                    : failures.get(0).path("stacktrace").asText().lines().limit(3)
                            .collect(java.util.stream.Collectors.joining(" | "));
            throw new IllegalStateException("job " + jobId + " is " + state + " after " + failures.size()
                    + " failures, e.g. " + one + "; see " + cluster.logDir());
        }
    }

    /**
     * The scorer's full state size (all subtasks) in the first checkpoint the job completed after
     * {@code afterMs}: Flink's {@code state_size}, which for the changelog backend is the
     * materialized state plus the changes since; -1 if none completed within {@code timeout}.
     */
    private long firstCheckpointStateBytes(long afterMs, Duration timeout) throws Exception {
        String scorer = scorerVertex(cluster, jobId);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long first = Long.MAX_VALUE;
            for (JsonNode h : rest(cluster, "/jobs/" + jobId + "/checkpoints").path("history")) {
                if ("COMPLETED".equals(h.path("status").asText()) && !h.path("is_savepoint").asBoolean()
                        && h.path("trigger_timestamp").asLong() >= afterMs) {
                    first = Math.min(first, h.path("id").asLong());
                }
            }
            if (first != Long.MAX_VALUE) {
                return rest(cluster, "/jobs/" + jobId + "/checkpoints/details/" + first + "/subtasks/" + scorer)
                        .path("state_size").asLong(-1);
            }
            Thread.sleep(500);
        }
        note("no checkpoint completed within " + timeout + ": state size unknown");
        return -1;
    }

    /** The TaskManagers' CPU in cores over {@code --idle} without traffic; NaN if not measured. */
    private double idleCores() throws InterruptedException {
        if (idle.isZero()) {
            return Double.NaN;
        }
        long cpu0 = taskManagerCpuNanos(cluster);
        long t0 = System.nanoTime();
        Thread.sleep(idle.toMillis());
        double cores = (taskManagerCpuNanos(cluster) - cpu0) / (double) (System.nanoTime() - t0);
        note(String.format(Locale.ROOT, "idle: TaskManagers used %.3f cores over %d s without traffic", cores, idle.toSeconds()));
        return cores;
    }

    /** The model core's CPU per request for the run's bundle and candidates, or null if not asked for. */
    private ClusterBenchLine.ModelCpu modelCpu() {
        if (modelCpuRequests == 0) {
            return null;
        }
        io.dienflink.model.DienModel m = io.dienflink.model.DienModel.load(model);
        ModelCapacity.Cpu c = ModelCapacity.cpuPerRequest(m, Math.min(users, MODEL_CPU_USERS), candidates, modelCpuRequests, 11);
        note(String.format(Locale.ROOT, "model core: %.1f µs CPU per request (%d requests of %d candidates, window %d, one thread)",
                c.microsPerRequest(), c.requests(), candidates, c.window()));
        return new ClusterBenchLine.ModelCpu(c.microsPerRequest(), c.window());
    }

    private ClusterBenchLine.Measured measure(TrafficGenerator traffic, double idleCores) throws Exception {
        Timeline rows = new Timeline(Long.MAX_VALUE);
        String scorer = scorerVertex(cluster, jobId);
        long[] atStart = new long[4]; // wall ms, TaskManager CPU ns, clicks, requests when the measured seconds begin
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
                        note(String.format(Locale.ROOT, "%s s=%d scores/s=%d p99_ms=%d max_ms=%d", label, row.second(),
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
        double seconds = (endMs - atStart[0]) / 1000.0;
        return new ClusterBenchLine.Measured(rows.stats(30), seconds,
                new ClusterBenchLine.TaskManagerCpu(cpuNanos, seconds, clicks, requests, idleCores),
                checkpoints(cluster, jobId, scorer, atStart[0], endMs), materializations(cluster, atStart[0], endMs));
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

    private static List<ClusterBenchLine.Checkpoint> checkpoints(LocalCluster cluster, String jobId, String scorer, long fromMs, long toMs)
            throws Exception {
        List<ClusterBenchLine.Checkpoint> out = new ArrayList<>();
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
            out.add(new ClusterBenchLine.Checkpoint(sync, async, h.path("checkpointed_size").asLong(), h.path("state_size").asLong()));
        }
        return out;
    }

    private void note(String text) {
        err.println("cluster-bench: " + text);
        err.flush();
    }
}

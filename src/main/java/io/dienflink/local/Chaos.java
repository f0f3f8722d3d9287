package io.dienflink.local;

import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.Topics;
import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.traffic.TrafficGenerator;
import io.dienflink.verify.CatchUp;
import io.dienflink.verify.RunVerifier;
import io.dienflink.verify.ScoreWatcher;
import io.dienflink.verify.VerifyReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chaos with real process kills on a {@link LocalCluster}: the scoring job (submitted with Flink's
 * CLI, parallelism 2 on 2 TaskManagers) runs under synthetic traffic while, at seeded random
 * intervals, one of three faults is injected:
 * <ul>
 *   <li>{@code taskmanager-kill}: a random TaskManager SIGKILLed, a new one started;</li>
 *   <li>{@code broker-kill}: the Kafka broker SIGKILLed and started again on its port and log directory;</li>
 *   <li>{@code savepoint-restart}: {@code flink stop --savepointPath}, then {@code flink run -s}.</li>
 * </ul>
 * The kinds come in a seeded order that uses each once every three faults; the wait before a fault
 * is exponential with the given mean (at least 2 s), counted from the previous recovery. A run
 * injects at least one fault of each kind: if recoveries were slow, faults (and traffic) go on past
 * the duration until it has. Recovery
 * time is fault → the first score on the scores topic (committed, under exactly-once) scored after
 * the fault (after the new job's submission, for a savepoint restart: the stop drains scores).
 *
 * <p>At the end the traffic stops, the job catches up, and the whole run is checked by
 * {@link RunVerifier} with one probe per user.
 */
public final class Chaos {
    private static final Logger LOG = LoggerFactory.getLogger(Chaos.class);
    private static final Duration RECOVERY_TIMEOUT = Duration.ofMinutes(3);
    static final List<String> KINDS = List.of("taskmanager-kill", "broker-kill", "savepoint-restart");
    /** The scoring operator's name, which the REST API's vertex names contain. */
    static final String SCORER_VERTEX = io.dienflink.job.DienScoringJob.SCORER_NAME;

    /**
     * @param workDir the local cluster's work directory; a cluster running there is used, else one is started and stopped at the end
     * @param jobJar the jar {@code flink run} submits ({@link JobJar})
     * @param model the model bundle (absolute: the TaskManagers run in the work directory)
     * @param duration how long traffic flows and faults are injected
     * @param meanInterval mean wait between a recovery and the next fault
     */
    public record Settings(Path workDir, Path jobJar, Path model, Duration duration, long seed, Duration meanInterval,
                           DeliveryGuarantee guarantee, double clicksPerSecond, double requestsPerSecond) {}

    /**
     * One injected fault: its kind, when (ms since the traffic started), the recovery time, and for
     * a TaskManager kill whether the victim ran a scorer subtask (false for the other kinds).
     */
    public record Fault(String kind, long atMs, long recoveryMs, boolean hitScorer) {}

    /**
     * What a chaos run did and what the checker found.
     *
     * @param scorerTaskManagers how many TaskManagers ran a scorer subtask when the job first scored
     */
    public record Result(Settings settings, List<Fault> faults, long clicks, long requests, VerifyReport report,
                         int scorerTaskManagers) {
        public boolean ok() {
            return report.ok();
        }

        public long count(String kind) {
            return faults.stream().filter(f -> f.kind().equals(kind)).count();
        }

        /** Median recovery time (the lower middle for an even count), -1 without faults. */
        public long medianRecoveryMs() {
            List<Long> r = new ArrayList<>(faults.stream().map(Fault::recoveryMs).toList());
            Collections.sort(r);
            return r.isEmpty() ? -1 : r.get((r.size() - 1) / 2);
        }

        public long maxRecoveryMs() {
            return faults.stream().mapToLong(Fault::recoveryMs).max().orElse(-1);
        }

        /** {@code chaos guarantee=.. seconds=.. faults=.. ... recovery_ms_median=.. recovery_ms_max=..} then the checker's line. */
        public String line() {
            return "chaos guarantee=" + settings.guarantee() + " seconds=" + settings.duration().toSeconds() + " seed="
                    + settings.seed() + " faults=" + faults.size() + " taskmanager_kills=" + count(KINDS.get(0))
                    + " taskmanager_kills_hit_scorer=" + faults.stream().filter(Fault::hitScorer).count()
                    + " broker_kills=" + count(KINDS.get(1)) + " savepoint_restarts=" + count(KINDS.get(2))
                    + " recovery_ms_median=" + medianRecoveryMs() + " recovery_ms_max=" + maxRecoveryMs()
                    + " clicks=" + clicks + " requests=" + requests + "\n" + report.line();
        }
    }

    private final Settings settings;
    private final PrintWriter out;
    private final LocalCluster cluster;
    private final String id;
    private final Topics topics;
    private final long began = System.currentTimeMillis();
    private String bootstrapServers;
    private String jobId;

    private Chaos(Settings settings, PrintWriter out) {
        this.settings = settings;
        this.out = out;
        this.cluster = new LocalCluster(settings.workDir());
        this.id = "chaos-" + (settings.guarantee() == DeliveryGuarantee.EXACTLY_ONCE ? "eo" : "alo") + "-" + began;
        this.topics = Topics.prefixed(id);
    }

    /** Runs chaos as {@code settings} say; progress and the fault lines go to {@code out}. */
    public static Result run(Settings settings, PrintWriter out) throws Exception {
        return new Chaos(settings, out).run();
    }

    private Result run() throws Exception {
        boolean started = cluster.runningProcesses().isEmpty();
        if (started) {
            cluster.up(new LocalCluster.Settings(2, 2, 0));
        } else {
            cluster.ensureTaskManagers(2, Duration.ofMinutes(2));
        }
        bootstrapServers = cluster.bootstrapServers();
        log("cluster " + cluster.restAddress() + ", kafka " + bootstrapServers + ", job jar " + settings.jobJar());
        KafkaClients.createTopics(client(), 2, FlinkCli.runTopics(topics));
        SplittableRandom rnd = new SplittableRandom(settings.seed());
        List<Fault> faults = new ArrayList<>();
        // 500 users of the demo vocabulary: enough users per key group, few enough probes at the end
        SyntheticWorld world = new SyntheticWorld(500, 50, 100, settings.seed());
        TrafficGenerator traffic = null;
        try (ScoreWatcher watcher = new ScoreWatcher(bootstrapServers, topics.scores(), id + "-watcher",
                settings.guarantee() == DeliveryGuarantee.EXACTLY_ONCE)) {
            jobId = submit(null);
            String warmUp = id + "-warm-up";
            traffic = new TrafficGenerator(bootstrapServers, topics, world, new TrafficGenerator.Rates(
                    settings.clicksPerSecond(), settings.requestsPerSecond(), 5, 0.01, Long.MAX_VALUE, Long.MAX_VALUE));
            traffic.probe(warmUp);
            await(watcher, s -> s.requestId().equals(warmUp), "the job's first score");
            Map<String, List<String>> placement = cluster.subtasksByTaskManager(jobId);
            int scorerTaskManagers = (int) placement.values().stream()
                    .filter(held -> held.stream().anyMatch(t -> t.contains(SCORER_VERTEX))).count();
            log("job " + jobId + " scoring; subtasks per TaskManager " + placement);
            long trafficStart = System.currentTimeMillis();
            long end = trafficStart + settings.duration().toMillis();
            traffic.start();
            List<String> order = new ArrayList<>(KINDS);
            long next = System.currentTimeMillis() + wait(rnd);
            // at least one fault of each kind, past the duration if recoveries were slow (the traffic flows until the last)
            while (next < end || faults.size() < KINDS.size()) {
                Thread.sleep(Math.max(0, next - System.currentTimeMillis()));
                if (faults.size() % KINDS.size() == 0) {
                    shuffle(order, rnd);
                }
                String kind = order.get(faults.size() % KINDS.size());
                long faultAt = System.currentTimeMillis();
                Injected injected = inject(kind, rnd);
                long observed = await(watcher, s -> s.scoredAtMs() >= injected.newScoresFromMs(), "a score after " + kind)
                        .observedAtMs();
                Fault f = new Fault(kind, faultAt - trafficStart, observed - faultAt, injected.hitScorer());
                faults.add(f);
                line("chaos fault=" + kind + " n=" + faults.size() + " at_s=" + f.atMs() / 1000 + " recovery_ms=" + f.recoveryMs()
                        + (kind.equals(KINDS.get(0)) ? " hit_scorer=" + f.hitScorer() : ""));
                if (kind.equals(KINDS.get(0))) {
                    cluster.ensureTaskManagers(2, Duration.ofMinutes(2));
                }
                next = System.currentTimeMillis() + wait(rnd);
            }
            Thread.sleep(Math.max(0, end - System.currentTimeMillis()));
            traffic.close();
            log("traffic done: " + traffic.clicks() + " clicks, " + traffic.requests() + " requests, "
                    + traffic.failed() + " not accepted by Kafka");
            if (!CatchUp.await(bootstrapServers, topics, id, RECOVERY_TIMEOUT)) {
                throw new IllegalStateException("the job (group " + id + ") did not catch up within " + RECOVERY_TIMEOUT);
            }
            log("caught up, checking");
            VerifyReport report = RunVerifier.verify(config(), new RunVerifier.Options(true, Duration.ofSeconds(120)));
            report.violations().forEach(v -> line("violation: " + v));
            Result result = new Result(settings, faults, traffic.clicks(), traffic.requests(), report, scorerTaskManagers);
            line(result.line());
            return result;
        } finally {
            if (traffic != null) {
                traffic.close();
            }
            if (jobId != null) {
                FlinkCli.run(cluster, List.of("cancel", jobId), new PrintWriter(new StringWriter()));
            }
            if (started) {
                cluster.down();
            }
        }
    }

    private long wait(SplittableRandom rnd) {
        double mean = settings.meanInterval().toMillis();
        return Math.max(2_000, (long) (-mean * Math.log(1 - rnd.nextDouble())));
    }

    private static void shuffle(List<String> list, SplittableRandom rnd) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, rnd.nextInt(i + 1));
        }
    }

    /** What {@link #inject} did: from when a score counts as new, and whether a killed TaskManager ran a scorer. */
    private record Injected(long newScoresFromMs, boolean hitScorer) {}

    private Injected inject(String kind, SplittableRandom rnd) throws Exception {
        long now = System.currentTimeMillis();
        switch (kind) {
            case "taskmanager-kill" -> {
                Map<String, List<String>> placement = cluster.subtasksByTaskManager(jobId);
                List<String> scorers = placement.entrySet().stream()
                        .filter(e -> e.getValue().stream().anyMatch(t -> t.contains(SCORER_VERTEX)))
                        .map(Map.Entry::getKey).sorted().toList();
                // a TaskManager without a scorer would test nothing of the job's state; only when
                // the REST API does not say where the scorers run (the job is restarting) is any one taken
                List<String> candidates = scorers.isEmpty() ? cluster.runningTaskManagers() : scorers;
                String victim = candidates.get(rnd.nextInt(candidates.size()));
                List<String> held = placement.getOrDefault(victim, List.of());
                cluster.kill(victim);
                // a score counts as new from the moment the victim is gone: until then it could still
                // write one (seen: "recoveries" of 23 ms under at-least-once)
                long gone = System.currentTimeMillis();
                String fresh = cluster.startTaskManager();
                log("killed " + victim + " (SIGKILL) holding " + (held.isEmpty() ? "no subtask" : String.join(", ", held))
                        + ", started " + fresh);
                return new Injected(gone, scorers.contains(victim));
            }
            case "broker-kill" -> {
                cluster.kill("kafka");
                cluster.restartBroker();
                log("killed the broker (SIGKILL), back after " + (System.currentTimeMillis() - now) + " ms");
                return new Injected(now, false);
            }
            case "savepoint-restart" -> {
                FlinkCli.Result stop = flink(List.of("stop", "--savepointPath", cluster.savepointDir().toUri().toString(), jobId));
                String savepoint = stop.savepointPath();
                long resubmitted = System.currentTimeMillis();
                jobId = submit(savepoint);
                log("stopped with savepoint " + savepoint + ", job " + jobId + " started from it");
                return new Injected(resubmitted, false);
            }
            default -> throw new IllegalArgumentException(kind);
        }
    }

    /** Submits the job (from a savepoint, claimed, or null), detached; returns its id. */
    private String submit(String savepoint) throws Exception {
        return FlinkCli.submitJob(cluster, settings.jobJar(), savepoint, bootstrapServers, settings.model(), jobSettings());
    }

    private FlinkCli.Result flink(List<String> args) throws Exception {
        FlinkCli.Result r = FlinkCli.run(cluster, args, new PrintWriter(new StringWriter()));
        if (r.exit() != 0) {
            throw new IllegalStateException("flink " + String.join(" ", args) + " failed (exit " + r.exit() + "):\n" + r.out());
        }
        return r;
    }

    /** The run's job settings: its own topics, group and transactional ids; every request checked. */
    private Map<String, String> jobSettings() {
        Map<String, String> s = FlinkCli.ownTopics(topics, id);
        s.put(DienJobOptions.DELIVERY_GUARANTEE.key(), settings.guarantee().name());
        s.put(DienJobOptions.CHECKPOINT_INTERVAL.key(), "1s");
        // the checker expects every request scored: none skipped at start, none expired while the job recovers
        s.put(DienJobOptions.REQUEST_INITIAL_OFFSET.key(), "EARLIEST");
        s.put(DienJobOptions.REQUEST_MAX_AGE.key(), "0s");
        return s;
    }

    private DienJobConfig config() {
        Configuration conf = new Configuration();
        jobSettings().forEach(conf::setString);
        conf.set(DienJobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
        conf.set(DienJobOptions.MODEL_PATH, settings.model().toAbsolutePath().toString());
        return DienJobConfig.from(conf);
    }

    private Properties client() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        return p;
    }

    private void log(String step) {
        line(String.format("chaos %s: %s at %.1f s", id, step, (System.currentTimeMillis() - began) / 1000.0));
    }

    private void line(String text) {
        LOG.info(text);
        out.println(text);
        out.flush();
    }

    /** The first score from the start of the run that matches, waiting up to the recovery timeout. */
    private static ScoreWatcher.Seen await(ScoreWatcher watcher, Predicate<ScoreWatcher.Seen> which, String what)
            throws InterruptedException {
        return watcher.await(0, which, RECOVERY_TIMEOUT)
                .orElseThrow(() -> new IllegalStateException("no " + what + " within " + RECOVERY_TIMEOUT));
    }
}

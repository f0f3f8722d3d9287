package io.dienflink.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.cli.Main;
import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.job.ShippedStateBackend;
import io.dienflink.kafka.Topics;
import io.dienflink.model.ModelBundle;
import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.traffic.TrafficGenerator;
import io.dienflink.verify.RunVerifier;
import io.dienflink.verify.VerifyReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The CLI section of docs/upgrades.md ("Upgrade with the Flink CLI"), executed command by command
 * against a local standalone cluster (JobManager, two TaskManagers and a Kafka broker, each its own
 * JVM, configured as deploy/ ships a cluster: the changelog state backend, CLAIM restores) with the
 * job jar submitted by Flink's CLI, under traffic: start with bundle A ({@code bundles/demo});
 * {@code bundle inspect} B; {@code flink stop --savepointPath}; a copy of that savepoint kept;
 * {@code flink run -s ... --claimMode CLAIM} with bundle B ({@code bundles/demo-untrained}) into the
 * same session cluster (a resubmission); roll back: stop, and start with A from the kept copy of
 * the pre-upgrade savepoint; then the eager path: {@code migrate} submitted to the cluster with
 * {@code flink run}, and the job started from its output with B.
 *
 * <p>Checked: on every partition of the scores topic the model switches exactly at the restarts
 * (A, then B, then A, then B: no score of the old model after the new one started), each score
 * carries its bundle's fingerprint, {@code migrate} rebuilt users, and the checker finds every
 * request answered, none twice but those the rollback read again (it resumes at the pre-upgrade
 * savepoint's offsets; a clean stop-with-savepoint repeats nothing, even at-least-once), every
 * invalid record dead-lettered (a request that waited out a restart longer than
 * {@code dien.request.max-age}, 1 s by default, is answered by an {@code expired} dead letter
 * instead of a score: that counts as answered). It runs without probes and does not judge the score values:
 * the two bundles' windows differ (T = 30 and 100), so no single model explains the whole run;
 * {@code UpgradeITCase} checks the values of an upgrade.
 */
class RunbookITCase {
    private static final Path MODEL_A = Path.of("bundles", "demo").toAbsolutePath();
    private static final Path MODEL_B = Path.of("bundles", "demo-untrained").toAbsolutePath();
    private static final Pattern MIGRATE = Pattern.compile("migrate users=(\\d+) rebuilt=(\\d+)");

    @TempDir
    Path tmp;

    private LocalCluster cluster;

    @AfterEach
    void down() throws Exception {
        if (cluster != null) {
            cluster.down();
        }
    }

    @Test
    void upgradeRollbackAndMigrateAsTheRunbookSays() throws Exception {
        long began = System.currentTimeMillis();
        Path workDir = tmp.resolve("cluster");
        cli("local-cluster", "up", "--work-dir", workDir.toString(), "--rest-port", "0");
        cluster = new LocalCluster(workDir);
        log(began, "cluster up");
        String kafka = cluster.bootstrapServers();
        String jar = JobJar.resolve(null).toString();
        String checkpoints = "-Dexecution.checkpointing.dir=" + cluster.checkpointDir().toUri();
        String savepoints = cluster.savepointDir().toUri().toString();
        ModelBundle a = ModelBundle.load(MODEL_A);
        ModelBundle b = ModelBundle.load(MODEL_B);

        // the job as it runs before the upgrade: bundle A, every request from the start of the topic
        String job = flinkJobId(cli("flink", "--work-dir", workDir.toString(), "run", "-d", jar, "run",
                "--bootstrap-servers", kafka, "--model", MODEL_A.toString(), checkpoints,
                "-D" + DienJobOptions.REQUEST_INITIAL_OFFSET.key() + "=EARLIEST"));
        try (ScoreWatcher scores = new ScoreWatcher(kafka);
             TrafficGenerator traffic = new TrafficGenerator(kafka, Topics.DEFAULT, new SyntheticWorld(300, 50, 100, 12),
                     new TrafficGenerator.Rates(40, 10, 5, 0.01, Long.MAX_VALUE, Long.MAX_VALUE))) {
            traffic.start();
            scores.awaitVersion(a, 0);
            log(began, "job " + job + " scoring with A");
            assertThat(cli("flink", "--work-dir", workDir.toString(), "list")).contains(job);

            // 1. the new bundle checked first
            assertThat(cli("bundle", "inspect", "--model", MODEL_B.toString())).contains(b.fingerprint());
            // 2. stop with a savepoint; keep a copy of it (the job started from it claims it, and Flink
            // deletes a claimed savepoint once newer checkpoints subsume it); 3a. start from it with B
            int mark = scores.mark();
            long requestsBeforeUpgrade = traffic.validRequests();
            String preUpgrade = savepointPath(cli("flink", "--work-dir", workDir.toString(), "stop", "--savepointPath",
                    savepoints, job));
            String kept = ShippedStateBackend.keptCopy(preUpgrade, cluster.savepointDir().resolve("pre-upgrade-copy"));
            job = start(workDir, preUpgrade, jar, kafka, MODEL_B, checkpoints);
            scores.awaitVersion(b, mark);
            log(began, "job " + job + " scoring with B");
            // roll back: stop, start with A from the kept copy of the pre-upgrade savepoint
            mark = scores.mark();
            cli("flink", "--work-dir", workDir.toString(), "stop", "--savepointPath", savepoints, job);
            long requestsReplayed = traffic.validRequests() - requestsBeforeUpgrade;
            job = start(workDir, kept, jar, kafka, MODEL_A, checkpoints);
            scores.awaitVersion(a, mark);
            log(began, "job " + job + " scoring with A again, from the pre-upgrade savepoint's copy");
            // 3b. eager: stop with a savepoint, migrate it on the cluster, start from the migrated one with B
            mark = scores.mark();
            String savepoint = savepointPath(cli("flink", "--work-dir", workDir.toString(), "stop", "--savepointPath",
                    savepoints, job));
            String migrated = cluster.savepointDir().resolve("v2-migrated").toUri().toString();
            String migrate = cli("flink", "--work-dir", workDir.toString(), "run", jar, "migrate", "--savepoint",
                    savepoint, "--model", MODEL_B.toString(), "--output", migrated);
            Matcher m = MIGRATE.matcher(migrate);
            assertThat(m.find()).as(migrate).isTrue();
            assertThat(Long.parseLong(m.group(1))).as(migrate).isPositive();
            // users not seen since the rollback still carry B's fingerprint: only the others need rebuilding
            assertThat(Long.parseLong(m.group(2))).as(migrate).isPositive().isLessThanOrEqualTo(Long.parseLong(m.group(1)));
            log(began, migrate.strip());
            job = start(workDir, migrated, jar, kafka, MODEL_B, checkpoints);
            scores.awaitVersion(b, mark);
            log(began, "job " + job + " scoring with B from the migrated savepoint");
            traffic.close();
            log(began, "traffic done: " + traffic.clicks() + " clicks, " + traffic.requests() + " requests");

            Configuration conf = new Configuration();
            conf.set(DienJobOptions.BOOTSTRAP_SERVERS, kafka);
            conf.set(DienJobOptions.MODEL_PATH, MODEL_B.toString());
            VerifyReport report = RunVerifier.verify(DienJobConfig.from(conf), new RunVerifier.Options(false, Duration.ofSeconds(60)));
            log(began, report.line());
            assertThat(report.requests()).as(report.line()).isGreaterThan(100);
            assertThat(report.missing()).as(report.line() + report.violations()).isZero();
            // answered = scored, or (older than dien.request.max-age, 1 s by default, e.g. waiting out a restart) expired
            assertThat(report.scored() + report.expired()).as(report.line()).isEqualTo(report.requests());
            assertThat(report.scored()).as(report.line()).isPositive();
            // The rollback from the pre-upgrade savepoint read again every request sent since it (they
            // were answered under B, and now again: expired, or scored by A); the clean
            // stops-with-savepoint repeat nothing (before, with the rollback from a savepoint taken
            // after the upgrade, this run had no duplicate at all).
            assertThat(report.duplicates()).as("only the requests the rollback read again: " + report.line())
                    .isPositive().isLessThanOrEqualTo(requestsReplayed);
            assertThat(report.deadLettersMissing()).as(report.line()).isZero();
            assertThat(report.unexpected()).as(report.line()).isZero();
            scores.assertPhases(List.of(a, b, a, b));
        } finally {
            // the job may have ended already (a failed step after a stop): not an error of its own
            Main.commandLine().setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(new StringWriter()))
                    .execute("flink", "--work-dir", workDir.toString(), "cancel", job);
        }
        log(began, "checked");
    }

    /**
     * Runbook step 3: the job started from {@code snapshot} with {@code model}, claiming the snapshot
     * (the changelog state backend restores only in CLAIM mode); returns the new job's id.
     */
    private static String start(Path workDir, String snapshot, String jar, String kafka, Path model, String checkpoints) {
        return flinkJobId(cli("flink", "--work-dir", workDir.toString(), "run", "-s", snapshot, "--claimMode", "CLAIM", "-d",
                jar, "run", "--bootstrap-servers", kafka, "--model", model.toString(), checkpoints));
    }

    private static String flinkJobId(String out) {
        return new FlinkCli.Result(0, out).jobId();
    }

    private static String savepointPath(String out) {
        return new FlinkCli.Result(0, out).savepointPath();
    }

    /** A subcommand of the tool, in-process; fails unless it exits 0; returns its stdout. */
    private static String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        assertThat(exit).as(String.join(" ", args) + "\n" + out + err).isZero();
        return out.toString();
    }

    private static void log(long began, String step) {
        System.out.printf("runbook: %s at %.1f s%n", step, (System.currentTimeMillis() - began) / 1000.0);
    }

    /** Reads the default scores topic from the start ({@link io.dienflink.verify.ScoreWatcher}), judging each score's model. */
    private static final class ScoreWatcher implements AutoCloseable {
        private final io.dienflink.verify.ScoreWatcher watcher;

        ScoreWatcher(String kafka) {
            watcher = new io.dienflink.verify.ScoreWatcher(kafka, Topics.DEFAULT.scores(), "runbook-watcher", false);
        }

        /** The number of scores seen so far: a mark for {@link #awaitVersion}. */
        int mark() {
            return watcher.mark();
        }

        /**
         * Waits for a score of {@code model} seen after {@code mark} on each of the scores topic's two
         * partitions: one partition's first score under a new model says nothing of the other's, whose
         * requests may still have been expiring while the job restarted.
         */
        void awaitVersion(ModelBundle model, int mark) throws InterruptedException {
            String version = model.config().modelVersion();
            for (int partition = 0; partition < 2; partition++) {
                int p = partition;
                if (watcher.await(mark, s -> s.partition() == p && s.score().getModelVersion().equals(version),
                        Duration.ofMinutes(3)).isEmpty()) {
                    throw new AssertionError("no score of " + version + " on partition " + p + " after score " + mark
                            + ": " + phases());
                }
            }
        }

        /** Per partition, the model versions in topic order with repeats collapsed; every fingerprint checked on the way. */
        Map<Integer, List<String>> phases() {
            Map<Integer, List<String>> out = new TreeMap<>();
            for (io.dienflink.verify.ScoreWatcher.Seen s : watcher.seen()) {
                List<String> p = out.computeIfAbsent(s.partition(), k -> new ArrayList<>());
                String version = s.score().getModelVersion();
                if (p.isEmpty() || !p.get(p.size() - 1).equals(version)) {
                    p.add(version);
                }
            }
            return out;
        }

        /**
         * Every partition went through the models in the given order, with no score of an earlier
         * phase's model after a later one started (a partition may miss a phase it got no request in,
         * but the expected sequence must hold: A B A B, never A B A B A), and every score's
         * fingerprint is its model's.
         */
        void assertPhases(List<ModelBundle> models) {
            Map<String, String> fingerprints = new java.util.HashMap<>();
            models.forEach(m -> fingerprints.put(m.config().modelVersion(), m.fingerprint()));
            for (io.dienflink.verify.ScoreWatcher.Seen s : watcher.seen()) {
                assertThat(s.score().getModelFingerprint()).as(s.score().getModelVersion())
                        .isEqualTo(fingerprints.get(s.score().getModelVersion()));
            }
            List<String> expected = models.stream().map(m -> m.config().modelVersion()).toList();
            Map<Integer, List<String>> phases = phases();
            assertThat(phases).hasSize(2);
            for (List<String> p : phases.values()) {
                assertThat(isSubsequence(p, expected)).as("phases " + p + ", expected within " + expected).isTrue();
                assertThat(p.get(p.size() - 1)).as("phases " + phases).isEqualTo(expected.get(expected.size() - 1));
            }
        }

        private static boolean isSubsequence(List<String> sub, List<String> of) {
            int i = 0;
            for (String s : of) {
                if (i < sub.size() && sub.get(i).equals(s)) {
                    i++;
                }
            }
            return i == sub.size();
        }

        @Override
        public void close() throws InterruptedException {
            watcher.close();
        }
    }
}

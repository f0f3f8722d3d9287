package io.dienflink.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Flink's own command-line client ({@code org.apache.flink.client.cli.CliFrontend} of
 * flink-clients) pointed at a {@link LocalCluster}: {@code run}, {@code stop --savepointPath},
 * {@code list}, {@code savepoint}, {@code cancel} behave as Flink's {@code bin/flink} would.
 *
 * <p>{@code CliFrontend} finds its configuration through the environment variable
 * {@code FLINK_CONF_DIR}, which a JVM cannot set for itself, and it ends with {@code System.exit}
 * (so does a submitted program's {@code main}); so it runs in a child JVM. Its classpath is the
 * cluster's ({@link LocalCluster#flinkLib()}, Flink's runtime only), as for Flink's {@code bin/flink}:
 * the program's {@code main} runs from the submitted jar in Flink's child-first user class loader.
 * The JVM gets the Vector API module the job's code needs when the client runs that {@code main}.
 */
public final class FlinkCli {
    private static final String MAIN = "org.apache.flink.client.cli.CliFrontend";
    private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");
    private static final Pattern SAVEPOINT = Pattern.compile("Savepoint completed\\. Path: (\\S+)");

    private FlinkCli() {}

    /** What one CLI call printed on stdout and its exit code. */
    public record Result(int exit, String out) {
        /** The job id of "Job has been submitted with JobID ..." ({@code flink run}); fails if there is none. */
        public String jobId() {
            Matcher m = JOB_ID.matcher(out);
            if (!m.find()) {
                throw new IllegalStateException("no job id in the output of flink (exit " + exit + "):\n" + out);
            }
            return m.group(1);
        }

        /** The path of "Savepoint completed. Path: ..." ({@code flink stop --savepointPath}, {@code flink savepoint}). */
        public String savepointPath() {
            Matcher m = SAVEPOINT.matcher(out);
            if (!m.find()) {
                throw new IllegalStateException("no savepoint path in the output of flink (exit " + exit + "):\n" + out);
            }
            return m.group(1);
        }
    }

    /**
     * Submits the scoring job detached ({@code flink run -d JAR run --bootstrap-servers ... --model
     * ... -Dkey=value ...}), from {@code snapshot} when it is not null, claiming it ({@code -s
     * SNAPSHOT --claimMode CLAIM}: the changelog state backend restores only in CLAIM mode, and
     * Flink's CLI passes its own default, NO_CLAIM, whatever the cluster's configuration says).
     *
     * @return the new job's id
     * @throws IllegalStateException if the CLI fails, with its output
     */
    public static String submitJob(LocalCluster cluster, Path jar, String snapshot, String bootstrapServers, Path model,
                                   java.util.Map<String, String> settings) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("run", "-d"));
        if (snapshot != null) {
            args.addAll(List.of("-s", snapshot, "--claimMode", "CLAIM"));
        }
        args.addAll(List.of(jar.toString(), "run", "--bootstrap-servers", bootstrapServers, "--model",
                model.toAbsolutePath().toString()));
        settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        Result r = run(cluster, args, new PrintWriter(new java.io.StringWriter()));
        if (r.exit() != 0) {
            throw new IllegalStateException("flink " + String.join(" ", args) + " failed (exit " + r.exit() + "):\n" + r.out());
        }
        return r.jobId();
    }

    /**
     * Stops a job with a savepoint into the cluster's savepoint directory ({@code flink stop
     * --savepointPath ...}): the sources stop, everything in flight is processed and written, then the
     * savepoint is taken and the job ends.
     *
     * @return the savepoint's path as Flink prints it ({@code file:/…})
     * @throws IllegalStateException if the CLI fails, with its output
     */
    public static String stopWithSavepoint(LocalCluster cluster, String jobId) throws IOException, InterruptedException {
        List<String> args = List.of("stop", "--savepointPath", cluster.savepointDir().toUri().toString(), jobId);
        Result r = run(cluster, args, new PrintWriter(new java.io.StringWriter()));
        if (r.exit() != 0) {
            throw new IllegalStateException("flink " + String.join(" ", args) + " failed (exit " + r.exit() + "):\n" + r.out());
        }
        return r.savepointPath();
    }

    /**
     * The settings that give a run its own topics, consumer group and transactional ids (so that
     * runs on one broker do not meet), and parallelism 2.
     */
    public static java.util.Map<String, String> ownTopics(io.dienflink.kafka.Topics topics, String id) {
        java.util.Map<String, String> s = new java.util.LinkedHashMap<>();
        s.put(io.dienflink.job.DienJobOptions.CLICKS_TOPIC.key(), topics.clicks());
        s.put(io.dienflink.job.DienJobOptions.REQUESTS_TOPIC.key(), topics.requests());
        s.put(io.dienflink.job.DienJobOptions.SCORES_TOPIC.key(), topics.scores());
        s.put(io.dienflink.job.DienJobOptions.DEAD_LETTER_TOPIC.key(), topics.deadLetters());
        // used only when the shadow challenger or the serving log is on (issue 19); see runTopics
        s.put(io.dienflink.job.DienJobOptions.SHADOW_SCORES_TOPIC.key(), topics.scores() + "-shadow");
        s.put(io.dienflink.job.DienJobOptions.SERVING_LOG_TOPIC.key(), topics.scores() + "-serving-log");
        s.put(io.dienflink.job.DienJobOptions.GROUP_ID.key(), id);
        s.put(io.dienflink.job.DienJobOptions.TRANSACTIONAL_ID_PREFIX.key(), id);
        s.put(io.dienflink.job.DienJobOptions.PARALLELISM.key(), "2");
        return s;
    }

    /**
     * Every topic a run with {@link #ownTopics} may write: its four, and the shadow scores' and the
     * serving log's, created up front so that turning either feature on with {@code -D} needs nothing else.
     */
    public static List<String> runTopics(io.dienflink.kafka.Topics topics) {
        List<String> all = new java.util.ArrayList<>(topics.all());
        all.add(topics.scores() + "-shadow");
        all.add(topics.scores() + "-serving-log");
        return all;
    }

    /**
     * Runs {@code flink <args>} against the cluster; the child's stdout is copied line by line to
     * {@code out} (and returned), its stderr goes to this process's stderr.
     */
    public static Result run(LocalCluster cluster, List<String> args, PrintWriter out) throws IOException, InterruptedException {
        if (!Files.exists(cluster.confDir().resolve("config.yaml"))) {
            throw new IllegalStateException("no local cluster configuration in " + cluster.confDir()
                    + " (run `local-cluster up` first)");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules=jdk.incubator.vector");
        command.addAll(LocalCluster.FLINK_JVM_OPENS);
        command.add("-Xmx512m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        // the client's own logging: warnings only, to stderr; the program's output stays on stdout
        command.add("-Dlog4j.configurationFile=" + cluster.confDir().resolve("log4j-cli.xml"));
        command.add("-cp");
        command.add(LocalCluster.flinkClassPath());
        command.add(MAIN);
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectInput(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("FLINK_CONF_DIR", cluster.confDir().toString());
        Process p = pb.start();
        StringBuilder text = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                text.append(line).append('\n');
                out.println(line);
                out.flush();
            }
        }
        return new Result(p.waitFor(), text.toString());
    }
}

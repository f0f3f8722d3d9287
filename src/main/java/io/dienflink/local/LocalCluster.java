package io.dienflink.local;

import io.dienflink.job.DienScoringJob;
import io.dienflink.kafka.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Flink standalone session cluster on this machine without Flink's distribution: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and N TaskManagers ({@code TaskManagerRunner}) as
 * separate JVMs, plus a single-node KRaft Kafka broker ({@link KafkaBrokerProcess}) as its own JVM.
 * Everything binds to 127.0.0.1.
 *
 * <p>The JobManager and TaskManagers (and Flink's CLI, {@link FlinkCli}) run on Flink's runtime
 * only: the jars of {@link #flinkLib()}, what the {@code lib/} of Flink's distribution holds, with
 * none of the project's classes, no Kafka client, no Avro and no ND4J. A submitted job jar brings
 * those through Flink's child-first user class loader, as on any Flink cluster. (The broker runs
 * from the tool jar: it is Kafka, not part of Flink.)
 *
 * <p>All of it lives under one work directory, so that separate invocations ({@code local-cluster
 * up}, {@code status}, {@code down}, {@code flink ...}) find the cluster again:
 * <pre>
 *   conf/config.yaml, conf/log4j2.xml   Flink's configuration (FLINK_CONF_DIR for the CLI)
 *   cluster.properties                  REST port, broker address (what {@code status} prints)
 *   pids/*.pid                          one per process: jobmanager, tm-1, tm-2, ..., kafka
 *   logs/*.log                          one per process
 *   kafka/                              the broker's settings and log directory
 *   checkpoints/, savepoints/           execution.checkpointing.dir / .savepoint-dir
 * </pre>
 *
 * <p>Processes are tracked by pid file only (never by name), so stopping or killing one works from
 * any JVM. The TaskManager's memory is given explicitly as dynamic properties, as Flink's shell
 * scripts would compute them ({@link #TM_MEMORY}): the runner refuses to start without them.
 *
 * <p>Not thread-safe; one owner at a time per work directory.
 */
public final class LocalCluster {
    private static final Logger LOG = LoggerFactory.getLogger(LocalCluster.class);
    private static final Pattern TASKMANAGERS = Pattern.compile("\"taskmanagers\"\\s*:\\s*(\\d+)");
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final String JOBMANAGER = "jobmanager";
    private static final String KAFKA = "kafka";
    private static final String JM_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    private static final String TM_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";

    /**
     * The TaskManager's memory, about 1.1 GB a process; the sizes Flink's {@code BashJavaUtils}
     * would derive, fixed here (the heap {@code -Xmx} is framework + task heap, the direct memory
     * limit framework + task off-heap + network). Small, because several clusters and builds share
     * the machine; the job's state is small.
     */
    static final Map<String, String> TM_MEMORY = Map.of(
            "taskmanager.memory.framework.heap.size", "64m",
            "taskmanager.memory.task.heap.size", "448m",
            // batch jobs (migrate) take their shuffle read buffers (64m) from here
            "taskmanager.memory.framework.off-heap.size", "128m",
            "taskmanager.memory.task.off-heap.size", "0m",
            "taskmanager.memory.network.min", "64m",
            "taskmanager.memory.network.max", "64m",
            "taskmanager.memory.managed.size", "192m",
            "taskmanager.memory.jvm-metaspace.size", "192m",
            "taskmanager.memory.jvm-overhead.min", "128m",
            "taskmanager.memory.jvm-overhead.max", "128m");
    private static final List<String> TM_JVM = List.of("-Xmx512m", "-Xms512m", "-XX:MaxDirectMemorySize=192m",
            "-XX:MaxMetaspaceSize=192m");

    /**
     * The module exports and opens Flink needs on Java 17 (reflection into {@code java.util} and
     * friends, e.g. for Kryo and the DataStream translators): the value of
     * {@code env.java.default-opts.all} in the {@code config.yaml} of Flink's distribution, which
     * its scripts put on every JVM they start. Every JVM of the local cluster, and Flink's CLI, gets them.
     */
    public static final List<String> FLINK_JVM_OPENS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private final Path workDir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** The cluster of {@code workDir} (which may not exist yet, or hold a stopped cluster). */
    public LocalCluster(Path workDir) {
        this.workDir = workDir.toAbsolutePath().normalize();
    }

    /**
     * Settings of {@link #up}.
     *
     * @param flinkConfig more lines of Flink's {@code config.yaml}, written after (and winning over)
     *     the cluster's own, e.g. for a measurement with another state backend configuration
     */
    public record Settings(int taskManagers, int slotsPerTaskManager, int restPort, Map<String, String> flinkConfig) {
        public Settings {
            flinkConfig = Map.copyOf(flinkConfig);
        }

        public Settings(int taskManagers, int slotsPerTaskManager, int restPort) {
            this(taskManagers, slotsPerTaskManager, restPort, Map.of());
        }

        /** Two TaskManagers of two slots, a free REST port. */
        public static Settings defaults() {
            return new Settings(2, 2, 0);
        }
    }

    public Path workDir() {
        return workDir;
    }

    /** Flink's configuration directory: what {@code FLINK_CONF_DIR} must point at for Flink's CLI. */
    public Path confDir() {
        return workDir.resolve("conf");
    }

    public Path savepointDir() {
        return workDir.resolve("savepoints");
    }

    public Path checkpointDir() {
        return workDir.resolve("checkpoints");
    }

    public Path logDir() {
        return workDir.resolve("logs");
    }

    /**
     * Starts the broker, the JobManager and {@code settings.taskManagers()} TaskManagers, and waits
     * until the broker answers, the REST API answers and every TaskManager has registered. The
     * default topics ({@link Topics#DEFAULT}) and the evaluation's
     * ({@link io.dienflink.evaluate.EvaluateOptions#defaultTopics()}) are created with 2 partitions. If the cluster of this
     * work directory is already running, fails rather than start a second one.
     */
    public void up(Settings settings) throws IOException, InterruptedException {
        if (!runningProcesses().isEmpty()) {
            throw new IllegalStateException("a cluster is already running in " + workDir + " (processes "
                    + runningProcesses() + "); run `local-cluster down` first");
        }
        try {
            start(settings);
        } catch (IOException | InterruptedException | RuntimeException e) {
            // nothing half-started is left behind
            LOG.warn("Local cluster did not come up, stopping what was started: {}", e.toString());
            down();
            throw e;
        }
    }

    private void start(Settings settings) throws IOException, InterruptedException {
        flinkLib(); // fails before anything starts if the build made no target/flink-lib/
        Files.createDirectories(workDir.resolve("pids"));
        Files.createDirectories(logDir());
        Files.createDirectories(checkpointDir());
        Files.createDirectories(savepointDir());
        Files.createDirectories(confDir());
        try (Stream<Path> old = Files.list(workDir.resolve("pids"))) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        // the broker keeps its port and data across `up`s of one work directory
        KafkaBrokerProcess broker = Files.exists(workDir.resolve(KAFKA).resolve("server.properties"))
                ? KafkaBrokerProcess.existing(workDir.resolve(KAFKA))
                : KafkaBrokerProcess.create(workDir.resolve(KAFKA), Map.of());
        int restPort = settings.restPort() > 0 ? settings.restPort() : freePort();
        writeConfig(settings, restPort);
        Properties state = new Properties();
        state.setProperty("rest.port", Integer.toString(restPort));
        state.setProperty("bootstrap.servers", broker.bootstrapServers());
        state.setProperty("slots.per.taskmanager", Integer.toString(settings.slotsPerTaskManager()));
        try (OutputStream out = Files.newOutputStream(workDir.resolve("cluster.properties"))) {
            state.store(out, "local-cluster of " + workDir);
        }
        // The JobManager first, alone: on a loaded machine (CI, parallel builds) JVMs starting
        // together slow each other down, and Pekko's remoting gives up after a fixed 10 s
        // ("Could not create actor system"). A JobManager that died starting is started again.
        for (int attempt = 1; ; attempt++) {
            startJobManager();
            if (awaitRest(Duration.ofMinutes(2))) {
                break;
            }
            if (attempt == 3) {
                throw new IllegalStateException("the JobManager did not start (3 attempts); see " + logDir().resolve("jobmanager.log"));
            }
            LOG.warn("The JobManager did not start (attempt {}), starting it again; see {}", attempt,
                    logDir().resolve("jobmanager.log"));
            stop(JOBMANAGER);
        }
        broker.start();
        writePid(KAFKA, broker.pid());
        for (int i = 0; i < settings.taskManagers(); i++) {
            startTaskManager();
        }
        broker.waitUntilReady();
        try {
            java.util.List<String> topics = new java.util.ArrayList<>(Topics.DEFAULT.all());
            // the shadow challenger's and the serving log's (issue 19), for jobs that turn them on
            topics.add(io.dienflink.job.DienJobOptions.SHADOW_SCORES_TOPIC.defaultValue());
            topics.add(io.dienflink.job.DienJobOptions.SERVING_LOG_TOPIC.defaultValue());
            // the online evaluation's outputs (docs/evaluation.md), so the evaluate job starts on defaults
            topics.addAll(io.dienflink.evaluate.EvaluateOptions.defaultTopics());
            broker.createTopics(2, topics);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("cannot create the default topics", e.getCause());
        }
        ensureTaskManagers(settings.taskManagers(), Duration.ofMinutes(3));
        LOG.info("Local cluster up: web UI and REST {}, Kafka {}, {} TaskManagers, work dir {}", restAddress(),
                bootstrapServers(), settings.taskManagers(), workDir);
    }

    private void writeConfig(Settings settings, int restPort) throws IOException {
        Map<String, String> c = flinkConfiguration(settings, restPort);
        StringBuilder yaml = new StringBuilder("# written by `dien-flink local-cluster up`; rewritten on every up\n");
        c.forEach((k, v) -> yaml.append(k).append(": ").append(quote(v)).append('\n'));
        Files.writeString(confDir().resolve("config.yaml"), yaml.toString(), StandardCharsets.UTF_8);
        writeLogConfig();
    }

    /** The lines of the cluster's Flink {@code config.yaml} for {@code settings} (its own, then {@code settings.flinkConfig()}). */
    public Map<String, String> flinkConfiguration(Settings settings, int restPort) throws IOException {
        Map<String, String> c = new LinkedHashMap<>();
        // localhost only: nothing of the local cluster is reachable from another machine
        c.put("jobmanager.rpc.address", "127.0.0.1");
        c.put("jobmanager.rpc.port", Integer.toString(freePort()));
        c.put("jobmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.host", "127.0.0.1");
        c.put("taskmanager.bind-host", "127.0.0.1");
        c.put("rest.address", "127.0.0.1");
        c.put("rest.bind-address", "127.0.0.1");
        c.put("rest.port", Integer.toString(restPort));
        c.put("jobmanager.memory.process.size", "1g");
        c.put("taskmanager.numberOfTaskSlots", Integer.toString(settings.slotsPerTaskManager()));
        c.put("parallelism.default", "2");
        // Slots spread over the TaskManagers, so that parallelism 2 on 2 TaskManagers puts a scorer
        // on each and losing any TaskManager hits the job. Flink 2.x removed the option
        // cluster.evenly-spread-out-slots (ignored without a warning when set: every task then
        // landed on one TaskManager); its successor is TaskManagerOptions.TASK_MANAGER_LOAD_BALANCE_MODE
        // (FLIP-370), whose SLOTS mode makes the slot manager pick the least used TaskManager.
        c.put("taskmanager.load-balance.mode", "SLOTS");
        // Fast failure detection. A SIGKILLed TaskManager's RPCs fail at once: after 2 failed
        // heartbeat RPCs (1 s apart) it is declared dead; an unreachable but live one after 8 s.
        // Flink's defaults (10 s interval, 50 s timeout) would leave the job waiting up to a minute.
        c.put("heartbeat.interval", "1000");
        c.put("heartbeat.timeout", "8000");
        c.put("heartbeat.rpc-failure-threshold", "2");
        // restarts: quick and practically unlimited (a broker outage can take several attempts)
        // A loaded machine (CI, several builds on 2 cores) starts JVMs slowly: Flink's 10 s
        // defaults for the RPC system's start and for RPC answers failed here.
        c.put("pekko.startup-timeout", "60 s");
        c.put("pekko.ask.timeout", "30 s");
        c.put("restart-strategy.type", "fixed-delay");
        c.put("restart-strategy.fixed-delay.attempts", "1000");
        c.put("restart-strategy.fixed-delay.delay", "1 s");
        c.put("state.backend.type", "rocksdb");
        c.put("execution.checkpointing.dir", checkpointDir().toUri().toString());
        c.put("execution.checkpointing.savepoint-dir", savepointDir().toUri().toString());
        c.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        // The project's one state-backend configuration, as deploy/ ships it: RocksDB under the
        // changelog, its state changes next to the checkpoints, every restore claiming its snapshot
        // (docs/job.md, "Checkpoints without stalls"). Flink's CLI still passes NO_CLAIM with
        // `flink run -s` unless given --claimMode CLAIM, and the job refuses that (JobPreflight).
        Configuration checkpoints = new Configuration();
        checkpoints.setString("execution.checkpointing.dir", c.get("execution.checkpointing.dir"));
        DienScoringJob.changelogDefaults(checkpoints).toMap().forEach(c::put);
        // No class-loading settings: the processes run on Flink's runtime only (flinkLib()), so the
        // job jar's classes and libraries load child-first from the job jar, Flink's defaults.
        c.put("env.java.opts.all", "--add-modules=jdk.incubator.vector " + String.join(" ", FLINK_JVM_OPENS));
        c.putAll(settings.flinkConfig());
        return c;
    }

    private void writeLogConfig() throws IOException {
        Files.writeString(confDir().resolve("log4j2.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- local-cluster processes: INFO to their stdout, which goes to logs/<process>.log -->
                <Configuration status="WARN">
                  <Appenders>
                    <Console name="out" target="SYSTEM_OUT">
                      <PatternLayout pattern="%d{HH:mm:ss.SSS} %-5level %c{1} - %msg%n"/>
                    </Console>
                  </Appenders>
                  <Loggers>
                    <Logger name="org.apache.flink.metrics.MetricGroup" level="ERROR"/>
                    <Logger name="org.apache.kafka" level="WARN"/>
                    <Root level="INFO"><AppenderRef ref="out"/></Root>
                  </Loggers>
                </Configuration>
                """, StandardCharsets.UTF_8);
        Files.writeString(confDir().resolve("log4j-cli.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- Flink's CLI (`dien-flink flink ...`): warnings to stderr; stdout is the CLI's answer -->
                <Configuration status="WARN">
                  <Appenders>
                    <Console name="err" target="SYSTEM_ERR">
                      <PatternLayout pattern="%d{HH:mm:ss.SSS} %-5level %c{1} - %msg%n"/>
                    </Console>
                  </Appenders>
                  <Loggers>
                    <!-- "Could not load CLI class ...FlinkYarnSessionCli": no YARN here, by design -->
                    <Logger name="org.apache.flink.client.cli.CliFrontend" level="ERROR"/>
                    <Logger name="org.apache.flink.core.plugin.PluginConfig" level="ERROR"/>
                    <Logger name="org.apache.flink.metrics.MetricGroup" level="ERROR"/>
                    <Root level="WARN"><AppenderRef ref="err"/></Root>
                  </Loggers>
                </Configuration>
                """, StandardCharsets.UTF_8);
    }

    private static String quote(String v) {
        return v.matches("[A-Za-z0-9._/:-]+") && !v.contains(": ") ? v : "'" + v.replace("'", "''") + "'";
    }

    private void startJobManager() throws IOException {
        startProcess(JOBMANAGER, List.of("-Xmx512m", "-Xms256m"), JM_MAIN, List.of("--configDir", confDir().toString()));
    }

    /**
     * Starts one more TaskManager (named {@code tm-N}, N one more than any before it in this work
     * directory); returns its name. Does not wait for it to register.
     */
    public String startTaskManager() throws IOException {
        int n = 1;
        while (Files.exists(pidFile("tm-" + n)) || Files.exists(logDir().resolve("tm-" + n + ".log"))) {
            n++;
        }
        String name = "tm-" + n;
        List<String> args = new ArrayList<>(List.of("--configDir", confDir().toString()));
        args.add("-D");
        args.add("taskmanager.resource-id=" + name);
        args.add("-D");
        // the runner requires it when started without Flink's scripts; as many cores as slots
        args.add("taskmanager.cpu.cores=" + Files.readString(confDir().resolve("config.yaml"))
                .lines().filter(l -> l.startsWith("taskmanager.numberOfTaskSlots:"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("1") + ".0");
        TM_MEMORY.forEach((k, v) -> {
            args.add("-D");
            args.add(k + "=" + v);
        });
        startProcess(name, TM_JVM, TM_MAIN, args);
        return name;
    }

    /**
     * Starts {@code count} more TaskManagers and waits until every running TaskManager, the new
     * ones included, is registered (replacing one that dies while starting, as
     * {@link #ensureTaskManagers} does). For a rescaled resubmission: the new slots exist before
     * the job asks for them, so it is spread over all TaskManagers.
     *
     * @return the new TaskManagers' names
     */
    public List<String> addTaskManagers(int count, Duration timeout) throws IOException, InterruptedException {
        int target = runningTaskManagers().size() + count;
        List<String> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(startTaskManager());
        }
        ensureTaskManagers(target, timeout);
        return started;
    }

    private void startProcess(String name, List<String> jvmFlags, String mainClass, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules=jdk.incubator.vector");
        command.addAll(FLINK_JVM_OPENS);
        command.addAll(jvmFlags);
        command.add("-XX:+UseSerialGC");
        command.add("-Dlog4j.configurationFile=" + confDir().resolve("log4j2.xml"));
        command.add("-cp");
        command.add(flinkClassPath());
        command.add(mainClass);
        command.addAll(args);
        Path log = logDir().resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("FLINK_CONF_DIR", confDir().toString());
        // Flink reads the log file's path for the web UI's log view
        pb.environment().put("FLINK_LOG_DIR", logDir().toString());
        Process p = pb.start();
        writePid(name, p.pid());
        LOG.info("Started {} (pid {}), log {}", name, p.pid(), log);
    }

    /** The names of the processes of this work directory that are running, e.g. {@code [kafka, jobmanager, tm-1]}. */
    public List<String> runningProcesses() throws IOException {
        List<String> out = new ArrayList<>();
        for (String name : processNames()) {
            if (handle(name).isPresent()) {
                out.add(name);
            }
        }
        return out;
    }

    /** The running TaskManagers' names ({@code tm-N}), in start order. */
    public List<String> runningTaskManagers() throws IOException {
        return runningProcesses().stream().filter(n -> n.startsWith("tm-"))
                .sorted((a, b) -> Integer.compare(Integer.parseInt(a.substring(3)), Integer.parseInt(b.substring(3))))
                .toList();
    }

    private List<String> processNames() throws IOException {
        Path pids = workDir.resolve("pids");
        if (!Files.isDirectory(pids)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(pids)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pid"))
                    .map(n -> n.substring(0, n.length() - 4)).sorted().toList();
        }
    }

    private Path pidFile(String name) {
        return workDir.resolve("pids").resolve(name + ".pid");
    }

    private void writePid(String name, long pid) throws IOException {
        Files.writeString(pidFile(name), Long.toString(pid), StandardCharsets.UTF_8);
    }

    /** The live process of a pid file; empty if there is none or it ended (or the pid was reused by a non-java process). */
    private Optional<ProcessHandle> handle(String name) throws IOException {
        Path file = pidFile(name);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        long pid = Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(true));
    }

    /** The pid of a running process of this cluster ({@code jobmanager}, {@code tm-1}, {@code kafka}). */
    public OptionalLong pid(String name) throws IOException {
        return handle(name).map(h -> OptionalLong.of(h.pid())).orElse(OptionalLong.empty());
    }

    /** Ends one process with SIGKILL (no shutdown at all) and waits until it is gone; its pid file is removed. */
    public void kill(String name) throws IOException, InterruptedException {
        end(name, true);
    }

    /** Ends one process with SIGTERM, then SIGKILL after 30 s; its pid file is removed. */
    public void stop(String name) throws IOException, InterruptedException {
        end(name, false);
    }

    private void end(String name, boolean forcibly) throws IOException, InterruptedException {
        Optional<ProcessHandle> h = handle(name);
        if (h.isPresent()) {
            ProcessHandle p = h.get();
            if (forcibly) {
                p.destroyForcibly();
            } else {
                p.destroy();
            }
            try {
                p.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                LOG.warn("{} (pid {}) did not end after SIGTERM within {}: SIGKILL", name, p.pid(), STOP_TIMEOUT);
                p.destroyForcibly();
                p.onExit().join();
            }
            LOG.info("{} (pid {}) ended ({})", name, p.pid(), forcibly ? "SIGKILL" : "SIGTERM");
        }
        Files.deleteIfExists(pidFile(name));
    }

    /** Starts the broker again on its port and log directory (after {@link #kill}ing or stopping it) and waits until it answers. */
    public void restartBroker() throws IOException, InterruptedException {
        KafkaBrokerProcess broker = KafkaBrokerProcess.existing(workDir.resolve(KAFKA));
        if (handle(KAFKA).isPresent()) {
            throw new IllegalStateException("the broker is still running");
        }
        broker.start();
        writePid(KAFKA, broker.pid());
        broker.waitUntilReady();
    }

    /**
     * Stops everything (TaskManagers, then the JobManager, then the broker: SIGTERM, SIGKILL after
     * 30 s). Idempotent: a stopped or never started cluster is left as it is. The work directory
     * (logs, checkpoints, savepoints, Kafka's data) is kept.
     */
    public void down() throws IOException, InterruptedException {
        List<String> names = new ArrayList<>(processNames());
        // TaskManagers first (the job fails over to nothing), the broker last (the job's sinks may still flush)
        names.sort((a, b) -> Integer.compare(order(a), order(b)));
        for (String name : names) {
            stop(name);
        }
    }

    private static int order(String name) {
        return name.startsWith("tm-") ? 0 : JOBMANAGER.equals(name) ? 1 : 2;
    }

    private Properties state() throws IOException {
        Properties p = new Properties();
        Path file = workDir.resolve("cluster.properties");
        if (!Files.exists(file)) {
            throw new IllegalStateException("no local cluster in " + workDir + " (run `local-cluster up`)");
        }
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        return p;
    }

    /** {@code http://127.0.0.1:<rest.port>}: Flink's REST API and web UI. */
    public String restAddress() throws IOException {
        return "http://127.0.0.1:" + state().getProperty("rest.port");
    }

    /** {@code 127.0.0.1:<port>}: the broker's address, fixed for the work directory's lifetime. */
    public String bootstrapServers() throws IOException {
        return state().getProperty("bootstrap.servers");
    }

    /** The number of TaskManagers registered at the JobManager (REST {@code /overview}); empty if it does not answer. */
    public OptionalLong registeredTaskManagers() throws IOException {
        Optional<String> overview = get("/overview");
        if (overview.isEmpty()) {
            return OptionalLong.empty();
        }
        Matcher m = TASKMANAGERS.matcher(overview.get());
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    /** GET of a REST path; empty if the JobManager does not answer or answers with an error. */
    public Optional<String> get(String path) throws IOException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(restAddress() + path))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /**
     * Where a job's subtasks run: TaskManager resource id ({@code tm-N}) to the subtasks it holds,
     * each as {@code "<vertex name> #<subtask>"}, from Flink's REST API ({@code /jobs/:id} and
     * {@code /jobs/:id/vertices/:vid}). Only subtasks with a TaskManager assigned are listed; empty
     * if the JobManager does not answer.
     */
    public Map<String, List<String>> subtasksByTaskManager(String jobId) throws IOException {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        Optional<String> job = get("/jobs/" + jobId);
        if (job.isEmpty()) {
            return out;
        }
        for (com.fasterxml.jackson.databind.JsonNode v : JSON.readTree(job.get()).path("vertices")) {
            Optional<String> vertex = get("/jobs/" + jobId + "/vertices/" + v.path("id").asText());
            if (vertex.isEmpty()) {
                continue;
            }
            for (com.fasterxml.jackson.databind.JsonNode st : JSON.readTree(vertex.get()).path("subtasks")) {
                String tm = st.path("taskmanager-id").asText("");
                if (!tm.isEmpty() && !"(unassigned)".equals(tm)) {
                    out.computeIfAbsent(tm, k -> new ArrayList<>()).add(v.path("name").asText() + " #" + st.path("subtask").asInt());
                }
            }
        }
        return out;
    }

    /**
     * Waits until {@code n} TaskManagers are registered, starting a new one whenever fewer than
     * {@code n} TaskManager processes run (one that died while starting, e.g. its RPC system timed
     * out on a loaded machine), at most 3 times.
     */
    public void ensureTaskManagers(int n, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int replacements = 0;
        while (true) {
            OptionalLong registered = registeredTaskManagers();
            int running = runningTaskManagers().size();
            if (registered.isPresent() && registered.getAsLong() == n && running == n) {
                return;
            }
            if (running < n) {
                if (++replacements > 3) {
                    throw new IllegalStateException("TaskManagers keep dying; see the logs in " + logDir());
                }
                LOG.warn("{} of {} TaskManagers running, starting {}", running, n, startTaskManager());
            }
            if (handle(JOBMANAGER).isEmpty()) {
                throw new IllegalStateException("the JobManager is not running; see " + logDir().resolve("jobmanager.log"));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(registered.isPresent()
                        ? registered.getAsLong() + " TaskManagers registered after " + timeout + ", expected " + n
                        : "the JobManager's REST API did not answer at " + restAddress() + " within " + timeout);
            }
            Thread.sleep(200);
        }
    }

    /** Waits until the REST API answers; false if the JobManager process ended or time ran out first. */
    private boolean awaitRest(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (get("/overview").isPresent()) {
                return true;
            }
            if (handle(JOBMANAGER).isEmpty()) {
                return false;
            }
            Thread.sleep(200);
        }
        return false;
    }

    /**
     * This JVM's classpath (the tool jar, or the build's classpath) with every entry absolute: the
     * child processes run in other directories (a relative {@code -cp target/dien-flink.jar} would
     * not resolve there). For the Kafka broker, which is not part of Flink.
     */
    static String toolClassPath() {
        return Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> !e.isEmpty())
                .map(e -> Path.of(e).toAbsolutePath().normalize().toString())
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    /** The system property that points the local cluster at another Flink {@code lib/} directory. */
    public static final String FLINK_LIB_PROPERTY = "dien.flink.lib";

    /**
     * The directory whose jars are the classpath of the JobManager, the TaskManagers and Flink's
     * CLI: the system property {@value #FLINK_LIB_PROPERTY} if set, else {@code flink-lib/} beside
     * the jar (or classes directory) this class was loaded from, i.e. {@code target/flink-lib/},
     * which {@code ./mvnw package} fills with Flink's runtime modules and their dependencies (the
     * equivalent of the {@code lib/} of Flink's distribution, which is not on Maven Central).
     *
     * @throws IllegalStateException if the directory does not exist or holds no Flink runtime
     */
    public static Path flinkLib() {
        String configured = System.getProperty(FLINK_LIB_PROPERTY);
        Path dir;
        if (configured != null && !configured.isBlank()) {
            dir = Path.of(configured);
        } else {
            try {
                Path source = Path.of(LocalCluster.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                dir = source.toAbsolutePath().getParent().resolve("flink-lib");
            } catch (java.net.URISyntaxException | NullPointerException e) {
                throw new IllegalStateException("cannot locate this jar to find flink-lib/ beside it; set -D"
                        + FLINK_LIB_PROPERTY + "=DIR", e);
            }
        }
        dir = dir.toAbsolutePath().normalize();
        boolean hasRuntime = false;
        if (Files.isDirectory(dir)) {
            try (Stream<Path> jars = Files.list(dir)) {
                // flink-runtime-*.jar from the build, or flink-dist-*.jar of a Flink distribution's lib/
                hasRuntime = jars.map(j -> j.getFileName().toString())
                        .anyMatch(n -> n.startsWith("flink-runtime-") || n.startsWith("flink-dist"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
        }
        if (!hasRuntime) {
            throw new IllegalStateException("no Flink runtime (flink-runtime-*.jar or flink-dist-*.jar) in " + dir + ", the local cluster's "
                    + "classpath: build it with `./mvnw -B package -DskipTests` (it fills target/flink-lib/), or set -D"
                    + FLINK_LIB_PROPERTY + "=DIR");
        }
        return dir;
    }

    /** The jars of {@link #flinkLib()}, sorted by name, as one classpath string. */
    static String flinkClassPath() {
        try (Stream<Path> jars = Files.list(flinkLib())) {
            return jars.filter(j -> j.getFileName().toString().endsWith(".jar")).map(Path::toString).sorted()
                    .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

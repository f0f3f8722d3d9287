package io.dienflink.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Kafka broker (KRaft, combined broker and controller) running as a child JVM started
 * from this JVM's classpath, with its port and log directory fixed for its lifetime: it can be
 * stopped (SIGTERM) or killed (SIGKILL) and started again on the same port with the same data,
 * which the in-JVM {@code KafkaClusterTestKit} cannot do reliably. For tests that take the broker
 * away under a running job, and for a local standalone setup.
 *
 * <p>The storage is formatted once, by a child JVM running Kafka's storage tool (its main ends with
 * {@code System.exit}, so it never runs in this process). The broker settings are
 * {@link LocalBroker#singleNodeSettings()}, as for {@link EmbeddedKafkaCluster}. The broker's
 * output goes to {@code broker.log} in the work directory.
 *
 * <p>Not thread-safe: one owner starts and stops it.
 */
public final class KafkaBrokerProcess implements LocalBroker, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerProcess.class);
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

    private final Path workDir;
    private final int port;
    private final int controllerPort;
    private final Path properties;
    private Process process;

    private KafkaBrokerProcess(Path workDir, int port, int controllerPort) {
        this.workDir = workDir;
        this.port = port;
        this.controllerPort = controllerPort;
        this.properties = workDir.resolve("server.properties");
    }

    /**
     * Writes the broker's settings into {@code workDir} (created if missing) with two free ports of
     * this host, and formats the log directory; the broker is not started.
     *
     * @param overrides further broker settings, applied last
     */
    public static KafkaBrokerProcess create(Path workDir, Map<String, String> overrides)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        KafkaBrokerProcess broker = new KafkaBrokerProcess(workDir, freePort(), freePort());
        broker.writeProperties(overrides);
        broker.format();
        return broker;
    }

    /**
     * The broker of a work directory {@link #create}d before (by this or another JVM): same ports,
     * same log directory, nothing formatted; not started.
     */
    public static KafkaBrokerProcess existing(Path workDir) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newInputStream(workDir.resolve("server.properties"))) {
            p.load(in);
        }
        String voters = p.getProperty("controller.quorum.voters");
        String listener = p.getProperty("advertised.listeners");
        int port = Integer.parseInt(listener.substring(listener.lastIndexOf(':') + 1));
        int controllerPort = Integer.parseInt(voters.substring(voters.lastIndexOf(':') + 1));
        return new KafkaBrokerProcess(workDir, port, controllerPort);
    }

    /** The broker process's pid; fails if it was never started by this instance. */
    public long pid() {
        if (process == null) {
            throw new IllegalStateException("not started");
        }
        return process.pid();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void writeProperties(Map<String, String> overrides) throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        // a static single voter: formatting needs no quorum bootstrap, and a restart finds itself as the quorum
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", workDir.resolve("data").toAbsolutePath().toString());
        p.putAll(LocalBroker.singleNodeSettings());
        p.putAll(overrides);
        StringBuilder text = new StringBuilder();
        p.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(properties, text.toString(), StandardCharsets.UTF_8);
    }

    private void format() throws IOException, InterruptedException {
        Process format = childJvm("kafka.tools.StorageTool", List.of("format", "-t", Uuid.randomUuid().toString(), "-c",
                properties.toString()), workDir.resolve("format.log")).start();
        if (!format.waitFor(2, TimeUnit.MINUTES) || format.exitValue() != 0) {
            format.destroyForcibly();
            throw new IOException("formatting the Kafka storage failed; see " + workDir.resolve("format.log") + ": "
                    + tail(workDir.resolve("format.log")));
        }
    }

    /** A JVM on this JVM's classpath running {@code mainClass}, its output appended to {@code log}. */
    private ProcessBuilder childJvm(String mainClass, List<String> args, Path log) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        // A local broker restarts more often than it runs long: start-up time (C1 only, one GC
        // thread) matters more here than peak throughput, and it leaves the cores to the job.
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-cp");
        command.add(LocalCluster.toolClassPath());
        command.add(mainClass);
        command.addAll(args);
        return new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    }

    /** Starts the broker process (returns at once; see {@link #waitUntilReady}). */
    public KafkaBrokerProcess start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("broker already running at " + bootstrapServers());
        }
        process = childJvm("kafka.Kafka", List.of(properties.toString()), workDir.resolve("broker.log")).start();
        LOG.info("Kafka broker process {} starting at {}", process.pid(), bootstrapServers());
        return this;
    }

    /** Blocks until the broker answers metadata requests; fails if the process died or took too long. */
    public void waitUntilReady() throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Properties p = clientProperties();
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
        try (Admin admin = Admin.create(p)) {
            while (true) {
                if (process == null || !process.isAlive()) {
                    throw new IllegalStateException("Kafka broker process is not running: "
                            + tail(workDir.resolve("broker.log")));
                }
                try {
                    if (!admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty()) {
                        LOG.info("Kafka broker ready at {}", bootstrapServers());
                        return;
                    }
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Kafka broker not ready after " + READY_TIMEOUT + ": "
                            + tail(workDir.resolve("broker.log")));
                }
                Thread.sleep(100);
            }
        }
    }

    /** Stops the broker with SIGTERM (a controlled shutdown) and waits for the process to end. */
    public void stop() throws InterruptedException {
        end(false);
    }

    /** Ends the broker with SIGKILL: no shutdown at all, as a crashed machine would. */
    public void kill() throws InterruptedException {
        end(true);
    }

    private void end(boolean forcibly) throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        if (forcibly) {
            process.destroyForcibly();
        } else {
            process.destroy();
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        LOG.info("Kafka broker process {} ended ({})", process.pid(), forcibly ? "SIGKILL" : "SIGTERM");
    }

    /** Stops the broker (SIGTERM) and starts it again on the same port and log directory, then waits until ready. */
    public void restart() throws IOException, InterruptedException {
        stop();
        start();
        waitUntilReady();
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** {@code 127.0.0.1:port}: the same for the broker's whole lifetime, across restarts. */
    @Override
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public Path workDir() {
        return workDir;
    }

    /** Stops the broker (SIGTERM); the work directory is left as it is. */
    @Override
    public void close() throws InterruptedException {
        stop();
    }

    private static String tail(Path log) {
        try {
            if (!Files.exists(log)) {
                return "(no output)";
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

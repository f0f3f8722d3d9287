package io.dienflink.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dienflink.local.EmbeddedKafkaCluster;
import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.job.DienScoringJob;
import io.dienflink.kafka.Topics;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the embedded run needs on a machine with only a JDK: a real Kafka broker (KRaft) in a
 * temporary directory, the topics, and the scoring job on a local Flink MiniCluster with RocksDB
 * and the web UI. Closing it cancels the job, stops the broker and deletes the data.
 */
public final class EmbeddedPipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPipeline.class);

    /** Status queries give up after this: a live status line must not wait for a busy or stopped job. */
    private static final java.time.Duration REST_TIMEOUT = java.time.Duration.ofSeconds(2);

    private final Path workDir;
    private final EmbeddedKafkaCluster kafka;
    private final Configuration jobConf;
    private volatile JobClient job;
    /** The online evaluation job, when {@link #startEvaluation} started one. */
    private volatile JobClient evaluation;
    private final int webPort;
    private final DienJobConfig config;

    private EmbeddedPipeline(Path workDir, EmbeddedKafkaCluster kafka, Configuration jobConf, int webPort, DienJobConfig config) {
        this.workDir = workDir;
        this.kafka = kafka;
        this.jobConf = jobConf;
        this.webPort = webPort;
        this.config = config;
    }

    /**
     * Starts broker and job.
     *
     * @param jobSettings job options (model path, parallelism, delivery guarantee, ...); the Kafka
     *     bootstrap servers are filled in
     */
    public static EmbeddedPipeline start(Configuration jobSettings) throws Exception {
        return start(jobSettings, (servers, topics) -> { });
    }

    /** Something to do once the broker and topics are up, before the job starts (e.g. preload input). */
    public interface BeforeJob {
        void run(String bootstrapServers, Topics topics) throws Exception;
    }

    /** Like {@link #start(Configuration)}, running {@code beforeJob} between broker and job start. */
    public static EmbeddedPipeline start(Configuration jobSettings, BeforeJob beforeJob) throws Exception {
        Path work = Files.createTempDirectory("dien-flink-embedded");
        EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.start(work.resolve("kafka"));
        try {
            Configuration conf = new Configuration(jobSettings);
            conf.set(DienJobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            if (!conf.contains(DienJobOptions.REQUEST_INITIAL_OFFSET)) {
                // the topics are new: every request on them was made for this run, even those sent
                // while the job's sources were still starting
                conf.set(DienJobOptions.REQUEST_INITIAL_OFFSET, DienJobOptions.InitialOffset.EARLIEST.name());
            }
            DienJobConfig config = DienJobConfig.from(conf);
            int parallelism = config.parallelism() > 0 ? config.parallelism() : 2;
            java.util.List<String> topics = new java.util.ArrayList<>(config.topics().all());
            topics.addAll(config.extraTopics()); // the shadow scores' and the serving log's, when on
            kafka.createTopics(parallelism, topics);
            beforeJob.run(kafka.bootstrapServers(), config.topics());
            DienScoringJob.configure(conf, config);
            conf.addAll(DienScoringJob.rocksDbDefaults(conf));
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, work.resolve("checkpoints").toUri().toString());
            conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, work.resolve("savepoints").toUri().toString());
            conf.addAll(DienScoringJob.changelogDefaults(conf));
            int port = freePort();
            conf.set(RestOptions.PORT, port);
            conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(256));
            conf.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
            if (!conf.contains(org.apache.flink.configuration.MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL)) {
                // the REST API's metric values are at most this old (Flink's default: 10 s), so the
                // counts a run reads at its start and end (demo's cpu line) cover its seconds
                conf.set(org.apache.flink.configuration.MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, java.time.Duration.ofSeconds(1));
            }
            if (config.shadow().shadowOn() && !conf.contains(TaskManagerOptions.NUM_TASK_SLOTS)) {
                // the challenger runs in a slot-sharing group of its own: slots beside the job's
                int shadow = config.shadow().parallelism() > 0 ? config.shadow().parallelism() : parallelism;
                conf.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism + shadow);
            }
            EmbeddedPipeline pipeline = new EmbeddedPipeline(work, kafka, conf, port, config);
            pipeline.job = pipeline.submit(conf);
            return pipeline;
        } catch (Exception e) {
            kafka.close();
            throw e;
        }
    }

    /**
     * Starts the online evaluation job (docs/evaluation.md) next to the scoring job, on this broker
     * and a local MiniCluster of its own (no web UI): the scoring job's clicks and scores topics,
     * the evaluation's topics created first. Cancelled by {@link #close()}.
     *
     * @param evalSettings the evaluate job's options ({@code dien.eval.*}, topics); Kafka is filled in
     */
    public io.dienflink.evaluate.EvaluateConfig startEvaluation(Configuration evalSettings) throws Exception {
        Configuration conf = new Configuration(evalSettings);
        conf.set(DienJobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(DienJobOptions.SCORES_TOPIC, config.topics().scores());
        conf.set(DienJobOptions.CLICKS_TOPIC, config.topics().clicks());
        io.dienflink.evaluate.EvaluateConfig eval = io.dienflink.evaluate.EvaluateConfig.from(conf);
        int parallelism = config.parallelism() > 0 ? config.parallelism() : 2;
        java.util.List<String> topics = new java.util.ArrayList<>(java.util.List.of(eval.shadowScoresTopic(),
                eval.modelEvalTopic(), eval.servingLogTopic(), eval.servingLogLabelledTopic()));
        if (eval.impressions()) {
            topics.add(eval.impressionsTopic());
        }
        kafka.createTopics(parallelism, topics);
        DienScoringJob.configure(conf, eval.checkpointInterval(), eval.deliveryGuarantee());
        conf.addAll(DienScoringJob.rocksDbDefaults(conf));
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, workDir.resolve("eval-checkpoints").toUri().toString());
        conf.addAll(DienScoringJob.changelogDefaults(conf));
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(128));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
        env.setParallelism(parallelism);
        io.dienflink.evaluate.EvaluateJob.forKafka(eval).addTo(env);
        evaluation = env.executeAsync("dien-flink evaluate (embedded)");
        LOG.info("Evaluate job {} submitted to its local MiniCluster", evaluation.getJobID());
        return eval;
    }

    private JobClient submit(Configuration conf) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        env.setParallelism(conf.get(CoreOptions.DEFAULT_PARALLELISM));
        DienScoringJob.forKafka(config).addTo(env);
        JobClient submitted = env.executeAsync("dien-flink scoring (embedded)");
        LOG.info("Job {} submitted to the local MiniCluster", submitted.getJobID());
        return submitted;
    }

    /**
     * Stops the job with a savepoint (traffic keeps arriving in Kafka) and waits until it has
     * finished; {@link #resume(String)} starts it again from the returned path.
     */
    public String stopWithSavepoint() throws Exception {
        String path = job.stopWithSavepoint(false, workDir.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get();
        job.getJobExecutionResult().get();
        return path;
    }

    /** Starts the job again from {@code savepoint}, on a new local MiniCluster with the same web UI port. */
    public void resume(String savepoint) throws Exception {
        Configuration conf = new Configuration(jobConf);
        conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        job = submit(conf);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String webUiUrl() {
        return "http://localhost:" + webPort;
    }

    public DienJobConfig config() {
        return config;
    }

    public JobClient job() {
        return job;
    }

    /**
     * Records the scoring operator has received so far (clicks and requests, all subtasks), from
     * the MiniCluster's REST API; -1 while the job's metrics are not available yet.
     */
    public long scorerRecordsIn() throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(webUiUrl() + "/jobs/" + job.getJobID())).timeout(REST_TIMEOUT).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return -1;
        }
        JsonNode root = new ObjectMapper().readTree(response.body());
        for (JsonNode v : root.path("vertices")) {
            if (v.path("name").asText().contains("DIEN interest state")) {
                return v.path("metrics").path("read-records").asLong(-1);
            }
        }
        return -1;
    }

    /**
     * The sum over the subtasks of an operator metric of the vertex whose name contains
     * {@code vertexName} (e.g. {@code shadowDropped} of the shadow challenger), from the REST API;
     * -1 while it is not available.
     */
    public long operatorMetricSum(String vertexName, String metric) {
        try {
            String base = webUiUrl() + "/jobs/" + job.getJobID();
            JsonNode vertices = get(base);
            if (vertices == null) {
                return -1;
            }
            for (JsonNode v : vertices.path("vertices")) {
                if (!v.path("name").asText().contains(vertexName)) {
                    continue;
                }
                String url = base + "/vertices/" + v.path("id").asText() + "/subtasks/metrics";
                JsonNode available = get(url);
                if (available == null) {
                    return -1;
                }
                for (JsonNode m : available) {
                    String id = m.path("id").asText();
                    if (id.equals(metric) || id.endsWith("." + metric)) {
                        JsonNode value = get(url + "?get=" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8)
                                + "&agg=sum");
                        return value == null || value.isEmpty() ? -1 : (long) value.get(0).path("sum").asDouble(-1);
                    }
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static JsonNode get(String url) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(url)).timeout(REST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200 ? new ObjectMapper().readTree(response.body()) : null;
    }

    /** Checkpoints triggered so far (completed, failed and in progress); -1 when not available. */
    public long checkpointsTriggered() {
        JsonNode counts = checkpointCounts();
        return counts == null ? -1 : counts.path("total").asLong(-1);
    }

    /** Whether a checkpoint is running right now. */
    public boolean checkpointInProgress() {
        JsonNode counts = checkpointCounts();
        return counts != null && counts.path("in_progress").asLong(0) > 0;
    }

    private JsonNode checkpointCounts() {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(webUiUrl() + "/jobs/" + job.getJobID() + "/checkpoints")).timeout(REST_TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? new ObjectMapper().readTree(response.body()).path("counts") : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public void close() throws Exception {
        if (evaluation != null) {
            try {
                evaluation.cancel().get();
            } catch (Exception e) {
                LOG.debug("evaluate job already finished", e);
            }
        }
        try {
            job.cancel().get();
        } catch (Exception e) {
            LOG.debug("job already finished", e);
        }
        kafka.close();
        try (Stream<Path> files = Files.walk(workDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

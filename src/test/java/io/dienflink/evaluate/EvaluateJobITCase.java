package io.dienflink.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.ModelEval;
import io.dienflink.avro.ServingLog;
import io.dienflink.job.DienJobOptions;
import io.dienflink.job.DienScoringJob;
import io.dienflink.job.ShippedStateBackend;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.local.EmbeddedKafkaCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.taskexecutor.TaskExecutor;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The evaluate job on a MiniCluster against a real broker: known scores (champion and challenger),
 * clicks, impressions and serving-log records in, through Kafka transactions; out, read committed,
 * exactly the ModelEval records and labelled serving-log records {@link EvaluateWorld} derives from
 * the rule and the metrics' definitions, each once. The second run loses the TaskManager of a
 * labelling subtask mid-stream (a replacement joins, as a Kubernetes pod would be restarted) and
 * must reconcile the same way: every scored candidate labelled once or counted dropped, no minute
 * and no labelled request twice.
 */
class EvaluateJobITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(2).setNumberSlotsPerTaskManager(1).setConfiguration(cluster()).build());

    static EmbeddedKafkaCluster kafka;
    static final int PARTITIONS = 2;

    private static Configuration cluster() {
        Configuration c = ShippedStateBackend.cluster();
        c.set(TaskManagerOptions.TASK_MANAGER_LOAD_BALANCE_MODE, TaskManagerOptions.TaskManagerLoadBalanceMode.SLOTS);
        // Flink's heartbeat defaults: a terminated TaskManager disconnects at once, and a short timeout
        // made the runs restart on a loaded machine (CI) with no fault at all
        return c;
    }

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaCluster.start(null);
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    /** The run's topics, by the names EvaluateWorld uses. */
    private static Map<String, String> topics(String run) {
        Map<String, String> t = new HashMap<>();
        for (String name : List.of("scores", "shadow", "clicks", "impressions", "serving-log", "model-eval", "labelled")) {
            t.put(name, run + "-" + name);
        }
        return t;
    }

    private static JobClient start(Map<String, String> topics, String run) throws Exception {
        Configuration conf = new Configuration();
        conf.set(DienJobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(DienJobOptions.SCORES_TOPIC, topics.get("scores"));
        conf.set(DienJobOptions.CLICKS_TOPIC, topics.get("clicks"));
        conf.set(DienJobOptions.SHADOW_SCORES_TOPIC, topics.get("shadow"));
        conf.set(EvaluateOptions.IMPRESSIONS_TOPIC, topics.get("impressions"));
        conf.set(DienJobOptions.SERVING_LOG_TOPIC, topics.get("serving-log"));
        conf.set(EvaluateOptions.LABEL_SERVING_LOG, true);
        conf.set(EvaluateOptions.SERVING_LOG_LABELLED_TOPIC, topics.get("labelled"));
        conf.set(EvaluateOptions.MODEL_EVAL_TOPIC, topics.get("model-eval"));
        conf.set(EvaluateOptions.GROUP_ID, run);
        conf.set(EvaluateOptions.TRANSACTIONAL_ID_PREFIX, run);
        conf.set(EvaluateOptions.ATTRIBUTION_WINDOW, Duration.ofMillis(EvaluateWorld.W));
        conf.set(EvaluateOptions.MAX_PENDING_PER_USER, EvaluateWorld.MAX_PENDING);
        conf.set(EvaluateOptions.OUT_OF_ORDERNESS, Duration.ofSeconds(2));
        // every partition has records all along (EvaluateWorld): none may be declared idle, so that a
        // source that starts reading late (a loaded machine) holds the watermark back instead of
        // finding its first records late
        conf.set(EvaluateOptions.SOURCE_IDLENESS, Duration.ofMinutes(5));
        conf.set(DienJobOptions.PARALLELISM, 2);
        conf.set(DienJobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        conf.setString(EvaluateOptions.DELIVERY_GUARANTEE.key(), System.getProperty("it.eval.guarantee", "EXACTLY_ONCE"));
        EvaluateConfig config = EvaluateConfig.from(conf);
        DienScoringJob.configure(conf, config.checkpointInterval(), config.deliveryGuarantee());
        conf.addAll(DienScoringJob.rocksDbDefaults(conf));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(conf);
        EvaluateJob.forKafka(config).addTo(env);
        return env.executeAsync("evaluate-" + run);
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        Properties p = kafka.clientProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("enable.idempotence", "true");
        return new KafkaProducer<>(p);
    }

    /** Reads a topic committed-only until {@code expected} records came and then 3 s more passed without a new one. */
    private static List<byte[]> readAll(String topic, int expected, Duration timeout) {
        Properties p = kafka.clientProperties();
        p.put("group.id", "check-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        List<byte[]> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + timeout.toMillis();
            long quietSince = System.currentTimeMillis();
            while (System.currentTimeMillis() < deadline) {
                int before = out.size();
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(r.value());
                }
                if (out.size() > before) {
                    quietSince = System.currentTimeMillis();
                }
                if (out.size() >= expected && System.currentTimeMillis() - quietSince > 3_000) {
                    break;
                }
            }
        }
        return out;
    }

    /** Waits until {@code topic} has at least {@code n} records (read uncommitted: written, maybe not yet committed) and {@code also} holds. */
    private static void awaitRecords(String topic, int n, java.util.function.BooleanSupplier also) throws InterruptedException {
        Properties p = kafka.clientProperties();
        p.put("group.id", "await-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        int seen = 0;
        long deadline = System.currentTimeMillis() + 60_000;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            while ((seen < n || !also.getAsBoolean()) && System.currentTimeMillis() < deadline) {
                seen += c.poll(Duration.ofMillis(100)).count();
            }
        }
        if (seen < n) {
            throw new IllegalStateException("only " + seen + " records on " + topic);
        }
    }

    @Test
    void knownInputGivesTheExpectedEvaluationsExactlyOnce() throws Exception {
        run("eval-plain", null);
    }

    @Test
    void survivesTheLossOfATaskManager(@InjectMiniCluster MiniCluster cluster) throws Exception {
        run("eval-tm-loss", cluster);
    }

    private void run(String run, MiniCluster killOne) throws Exception {
        Map<String, String> topics = topics(run);
        kafka.createTopics(PARTITIONS, List.copyOf(topics.values()));
        EvaluateWorld world = new EvaluateWorld(19);
        JobClient job = start(topics, run);
        while (job.getJobStatus().get() != org.apache.flink.api.common.JobStatus.RUNNING) {
            Thread.sleep(100);
        }
        java.util.concurrent.atomic.AtomicReference<Double> progress = new java.util.concurrent.atomic.AtomicReference<>(0.0);
        java.util.concurrent.atomic.AtomicBoolean killed = new java.util.concurrent.atomic.AtomicBoolean();
        Thread killer = new Thread(() -> {
            // mid-stream, and only once the job has written labelled records (so that some output
            // and some state predate the loss), the TaskManager of labelling subtask 0 goes away
            try {
                awaitRecords(topics.get("labelled"), 50, () -> progress.get() >= 0.5);
                killOne.terminateTaskManager(hostOfTheLabeller(killOne, job)).get();
                killed.set(true);
                killOne.startTaskManager(); // the replacement
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "taskmanager-killer");
        if (killOne != null) {
            killer.start();
        }
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            world.send(producer, topics, 18, progress::set);
            if (killOne != null) {
                killer.join(60_000);
                assertThat(killed).as("the TaskManager was lost mid-stream").isTrue();
            }
            world.close(producer, topics, PARTITIONS);
        }
        Map<String, ModelEval> expected = world.expectedEvals();
        Map<String, List<Integer>> expectedLogs = world.expectedLogs();
        List<byte[]> evals = readAll(topics.get("model-eval"), expected.size(), Duration.ofSeconds(120));
        List<byte[]> logs = readAll(topics.get("labelled"), expectedLogs.size(), Duration.ofSeconds(30));
        assertThat(job.getJobStatus().get()).as("the evaluate job's status").isEqualTo(org.apache.flink.api.common.JobStatus.RUNNING);
        if (killOne != null) {
            assertThat(killOne.getExecutionGraph(job.getJobID()).get()
                    .getStatusTimestamp(org.apache.flink.api.common.JobStatus.RESTARTING))
                    .as("the job restarted after the TaskManager loss").isPositive();
        }
        job.cancel().get();

        BinaryMessageDecoder<ModelEval> evalDecoder = AvroMessages.decoder(ModelEval.class);
        Map<String, Integer> seen = new HashMap<>();
        Map<String, ModelEval> actual = new HashMap<>();
        for (byte[] v : evals) {
            ModelEval e = evalDecoder.decode(v);
            String key = e.getModelFingerprint() + "/" + e.getRole() + "/" + e.getMinute().toEpochMilli();
            seen.merge(key, 1, Integer::sum);
            actual.put(key, e);
        }
        assertThat(seen).as("each model's minute once").allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        long labelledChampion = 0;
        long droppedChampion = 0;
        for (Map.Entry<String, ModelEval> en : expected.entrySet()) {
            ModelEval want = en.getValue();
            ModelEval got = actual.get(en.getKey());
            assertThat(got.getModelVersion()).as("%s: %s", en.getKey(), got).isEqualTo(want.getModelVersion());
            assertThat(got.getLabelled()).as(en.getKey()).isEqualTo(want.getLabelled());
            assertThat(got.getPositives()).as(en.getKey()).isEqualTo(want.getPositives());
            assertThat(got.getDroppedPending()).as(en.getKey()).isEqualTo(want.getDroppedPending());
            assertThat(got.getAuc()).as(en.getKey()).isCloseTo(want.getAuc(), within(1e-9));
            assertThat(got.getLogLoss()).isCloseTo(want.getLogLoss(), within(1e-9));
            assertThat(got.getNormalizedEntropy()).isCloseTo(want.getNormalizedEntropy(), within(1e-9));
            assertThat(got.getCalibration()).isCloseTo(want.getCalibration(), within(1e-9));
            assertThat(got.getPaired()).isEqualTo(want.getPaired());
            if (want.getPsi() == null) {
                assertThat(got.getPsi()).isNull();
                assertThat(got.getAucDifference()).isNull();
            } else {
                assertThat(got.getPsi()).isCloseTo(want.getPsi(), within(1e-9));
                assertThat(got.getAucDifference()).isCloseTo(want.getAucDifference(), within(1e-9));
                assertThat(got.getAucDifferenceVariance()).isCloseTo(want.getAucDifferenceVariance(), within(1e-12));
            }
            if (got.getRole().equals("champion")) {
                labelledChampion += got.getLabelled();
                droppedChampion += got.getDroppedPending();
            }
        }
        // reconciled: every scored candidate of the champion labelled (if shown) or dropped, none twice
        long scored = world.requests.size() * (long) EvaluateWorld.CANDIDATES;
        long notShown = world.requests.stream().filter(r -> !world.dropped(r)).count(); // one unshown candidate each
        assertThat(labelledChampion + droppedChampion + notShown).isEqualTo(scored);
        assertThat(droppedChampion).isEqualTo((EvaluateWorld.HEAVY_REQUESTS - EvaluateWorld.MAX_PENDING) * 5L);

        BinaryMessageDecoder<ServingLog> logDecoder = AvroMessages.decoder(ServingLog.class);
        Map<String, Integer> logSeen = new HashMap<>();
        Map<String, List<Integer>> labels = new HashMap<>();
        for (byte[] v : logs) {
            ServingLog l = logDecoder.decode(v);
            logSeen.merge(l.getRequestId(), 1, Integer::sum);
            labels.put(l.getRequestId(), l.getLabels());
            assertThat(l.getHistory()).hasSize(1); // the record as read, labels attached
        }
        assertThat(logSeen).as("each labelled request once").allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
        assertThat(labels).isEqualTo(expectedLogs);
    }

    /** The index of the TaskManager running labelling subtask 0. */
    private static int hostOfTheLabeller(MiniCluster cluster, JobClient job) throws Exception {
        org.apache.flink.runtime.clusterframework.types.ResourceID host = null;
        for (AccessExecutionVertex v : cluster.getExecutionGraph(job.getJobID()).get().getAllExecutionVertices()) {
            if (v.getTaskNameWithSubtaskIndex().contains(EvaluateJob.LABELLER_NAME) && v.getParallelSubtaskIndex() == 0) {
                host = v.getCurrentAssignedResourceLocation().getResourceID();
            }
        }
        java.lang.reflect.Field field = MiniCluster.class.getDeclaredField("taskManagers");
        field.setAccessible(true);
        List<?> executors = (List<?>) field.get(cluster);
        for (int i = 0; i < executors.size(); i++) {
            if (((TaskExecutor) executors.get(i)).getResourceID().equals(host)) {
                return i;
            }
        }
        throw new IllegalStateException("no TaskManager runs the labelling subtask 0");
    }
}

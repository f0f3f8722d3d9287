package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.DeadLetters;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.GoldenCases;
import io.dienflink.verify.RunVerifier;
import io.dienflink.verify.VerifyReport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hostile input never fails the job: a running job (real broker, MiniCluster, parallelism 2)
 * receives a seeded mix ({@link HostileInputs}) of random bytes, empty and null values, truncated
 * and bit-flipped records, records with extreme values (including ~600 KB and 2 MiB ids) and
 * ordinary clicks and requests: 100,000 records at least once, 10,000 exactly once. The job must
 * never restart, every record must be used or dead-lettered exactly as {@link InputValidation}
 * judges it (dead letters matched by topic, partition and offset, with the value's length and
 * SHA-256), every valid request scored once, and the run must pass the checker
 * ({@link RunVerifier}, probes included). One summary line per run logs the counts.
 */
class FuzzITCase {
    private static final Logger LOG = LoggerFactory.getLogger(FuzzITCase.class);
    private static final String BUNDLE = "official";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The largest input record the test's topics and producer allow. */
    private static final int MAX_INPUT_BYTES = 4 * 1024 * 1024;

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).setConfiguration(ShippedStateBackend.cluster()).build());

    @RegisterExtension
    static final KafkaJobFixture KAFKA = new KafkaJobFixture();

    @TempDir
    Path tmp;

    /**
     * A sent record: where it landed and what validation says of it.
     *
     * @param reason the dead-letter reason code, null for a valid record
     * @param requestId the id of a valid request, else null
     * @param length the value's length, -1 for a null value
     * @param sha256 the value's SHA-256 when it is invalid, else null
     */
    private record Sent(String topic, int partition, long offset, HostileInputs.Kind kind, String label, String reason,
                        String requestId, int length, String sha256) {
        String coordinates() {
            return topic + "/" + partition + "/" + offset;
        }
    }

    @Test
    void atLeastOnceJobSurvivesHostileInput() throws Exception {
        assertThat(fuzz("alo", DeliveryGuarantee.AT_LEAST_ONCE, 50_100, 20261201L)).isGreaterThanOrEqualTo(100_000);
    }

    @Test
    void exactlyOnceJobSurvivesHostileInput() throws Exception {
        fuzz("eo", DeliveryGuarantee.EXACTLY_ONCE, 5_000, 20261202L);
    }

    /**
     * Runs the job on fresh topics, sends {@code perTopic} fuzz records (plus the extremes) to each
     * input topic and checks the outcome.
     *
     * @return the number of records sent
     */
    private int fuzz(String name, DeliveryGuarantee guarantee, int perTopic, long seed) throws Exception {
        Topics topics = new Topics("fuzz-" + name + "-clicks", "fuzz-" + name + "-requests", "fuzz-" + name + "-scores",
                "fuzz-" + name + "-dead-letters");
        createTopics(topics);
        String model = GoldenCases.bundleDir(BUNDLE).toString();
        Consumer<Configuration> settings = conf -> {
            conf.set(DienJobOptions.CLICKS_TOPIC, topics.clicks());
            conf.set(DienJobOptions.REQUESTS_TOPIC, topics.requests());
            conf.set(DienJobOptions.SCORES_TOPIC, topics.scores());
            conf.set(DienJobOptions.DEAD_LETTER_TOPIC, topics.deadLetters());
            conf.set(DienJobOptions.GROUP_ID, "fuzz-" + name);
            conf.set(DienJobOptions.TRANSACTIONAL_ID_PREFIX, "fuzz-" + name);
            conf.set(DienJobOptions.DELIVERY_GUARANTEE, guarantee.name());
            conf.set(DienJobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        };
        DienJobConfig config = config(model, settings);
        InputValidation.Limits limits = InputValidation.Limits.of(config);
        JobClient job = KAFKA.startJob(model, null, tmp.resolve("checkpoints"), "dien-fuzz-" + name, settings);
        try {
            long t0 = System.nanoTime();
            List<Sent> sent = produce(topics, limits, perTopic, seed);
            long produced = System.nanoTime();
            List<Sent> invalid = sent.stream().filter(s -> s.reason() != null).toList();
            List<String> validRequests = sent.stream().filter(s -> s.requestId() != null).map(Sent::requestId).toList();

            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = consume(topics, guarantee,
                    Map.of(topics.deadLetters(), invalid.size(), topics.scores(), validRequests.size()));
            long caughtUp = System.nanoTime();

            // every invalid record dead-lettered once, with the verdict's reason and its value's length and hash
            BinaryMessageDecoder<DeadLetter> deadDecoder = AvroMessages.decoder(DeadLetter.class);
            Map<String, DeadLetter> dead = new HashMap<>();
            Map<String, Integer> byReason = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> r : out.get(topics.deadLetters())) {
                DeadLetter d = deadDecoder.decode(r.value());
                assertThat(r.serializedValueSize()).isLessThan(200 * 1024);
                String at = d.getSourceTopic() + "/" + d.getPartition() + "/" + d.getOffset();
                assertThat(dead.put(at, d)).as("dead letters for %s", at).isNull();
                byReason.merge(d.getReason(), 1, Integer::sum);
            }
            // sets and counts, not AssertJ's element-wise containsExactlyInAnyOrder: that is quadratic
            assertThat(dead.keySet()).isEqualTo(invalid.stream().map(Sent::coordinates).collect(Collectors.toSet()));
            for (Sent s : invalid) {
                DeadLetter d = dead.get(s.coordinates());
                assertThat(d.getReason()).as("%s at %s", s.label(), s.coordinates()).isEqualTo(s.reason());
                assertThat(d.getPayloadLength()).isEqualTo(s.length());
                assertThat(d.getPayloadSha256()).isEqualTo(s.sha256());
                assertThat(d.getPayloadTruncated()).isEqualTo(s.length() > DeadLetters.MAX_PAYLOAD_BYTES);
            }

            // every valid request scored, once (no restart, so no replay even at least once)
            BinaryMessageDecoder<CtrScore> scoreDecoder = AvroMessages.decoder(CtrScore.class);
            List<String> scored = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : out.get(topics.scores())) {
                scored.add(scoreDecoder.decode(r.value()).getRequestId());
            }
            assertThat(countById(scored)).isEqualTo(countById(validRequests));

            // the checker agrees: every valid request scored correctly, every invalid record dead-lettered,
            // and the probes show each user's window holds every distinct click
            VerifyReport report = RunVerifier.verify(config, new RunVerifier.Options(true, Duration.ofSeconds(60)));
            long verified = System.nanoTime();
            assertThat(report.ok()).as(report.line() + "\n" + String.join("\n", report.violations())).isTrue();
            assertThat(report.scored()).isEqualTo(report.requests());
            assertThat(report.malformed()).isEqualTo(report.deadLetters()).isEqualTo(invalid.size());
            assertThat(report.deadLettersMissing()).isZero();
            assertThat(report.deadLettersDoubled()).isZero();
            assertThat(report.duplicates()).isZero();
            assertNeverRestarted(job);

            Map<HostileInputs.Kind, Integer> byKind = new EnumMap<>(HostileInputs.Kind.class);
            sent.forEach(s -> byKind.merge(s.kind(), 1, Integer::sum));
            LOG.info("fuzz {}: {} records ({} per kind) → {} scores of {} valid requests, {} valid clicks, {} dead letters "
                            + "by reason {}; produced in {} ms, caught up {} ms later, verified in {} ms, 0 restarts; {}",
                    guarantee, sent.size(), byKind, scored.size(), validRequests.size(),
                    sent.stream().filter(s -> s.reason() == null && s.topic().equals(topics.clicks())).count(),
                    dead.size(), byReason, (produced - t0) / 1_000_000, (caughtUp - produced) / 1_000_000,
                    (verified - caughtUp) / 1_000_000, report.line());
            return sent.size();
        } finally {
            job.cancel().get();
        }
    }

    /**
     * The settings the job runs with, as the fixture builds them (it keeps its own copy), for the
     * checker and the generator's limits.
     */
    private static DienJobConfig config(String model, Consumer<Configuration> settings) {
        Configuration conf = new Configuration();
        conf.set(DienJobOptions.BOOTSTRAP_SERVERS, KAFKA.bootstrapServers());
        conf.set(DienJobOptions.MODEL_PATH, model);
        settings.accept(conf);
        return DienJobConfig.from(conf);
    }

    private static Map<String, Long> countById(List<String> ids) {
        return ids.stream().collect(Collectors.groupingBy(id -> id, Collectors.counting()));
    }

    private static void createTopics(Topics topics) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", KAFKA.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            // The input topics take records up to 4 MiB, so the 2 MiB extremes reach the job (the
            // ~600 KB ones fit the broker's default 1 MiB); the output topics keep the defaults, so
            // the job's own producers face the usual limits with the dead letters of those records.
            Map<String, String> large = Map.of("max.message.bytes", Integer.toString(MAX_INPUT_BYTES));
            admin.createTopics(List.of(new NewTopic(topics.clicks(), 2, (short) 1).configs(large),
                    new NewTopic(topics.requests(), 2, (short) 1).configs(large),
                    new NewTopic(topics.scores(), 2, (short) 1),
                    new NewTopic(topics.deadLetters(), 2, (short) 1))).all().get();
            KafkaClients.awaitTopics(admin, topics.all(), Duration.ofSeconds(60));
        }
    }

    /**
     * Sends the fuzz mix to both input topics, as fast as one producer can (not idempotent, no
     * retries: a send either lands once or fails the test), and returns each record's coordinates
     * and verdict.
     */
    private static List<Sent> produce(Topics topics, InputValidation.Limits limits, int perTopic, long seed)
            throws Exception {
        long[] items = GoldenCases.bundle(BUNDLE).longs("vocab.item");
        long[] categories = GoldenCases.bundle(BUNDLE).longs("vocab.category");
        HostileInputs gen = new HostileInputs(seed, items, categories, 200, limits.maxIdBytes(), limits.maxCandidates());
        InputValidation validation = new InputValidation(limits);
        List<HostileInputs.Input> clickInputs = mix(gen, true, perTopic);
        List<HostileInputs.Input> requestInputs = mix(gen, false, perTopic);
        // interleaved, so clicks and requests reach the job together
        List<Map.Entry<Boolean, HostileInputs.Input>> inputs = new ArrayList<>();
        for (int i = 0; i < Math.max(clickInputs.size(), requestInputs.size()); i++) {
            if (i < clickInputs.size()) {
                inputs.add(Map.entry(true, clickInputs.get(i)));
            }
            if (i < requestInputs.size()) {
                inputs.add(Map.entry(false, requestInputs.get(i)));
            }
        }
        // Verdicts first: a mutation can turn one valid request's id into another's (a flipped
        // digit); the checker attributes scores by request id, so such look-alikes are not sent.
        List<InputValidation.Outcome<?>> verdicts = new ArrayList<>();
        Map<String, Integer> requestIds = new HashMap<>();
        for (Map.Entry<Boolean, HostileInputs.Input> e : inputs) {
            InputValidation.Outcome<?> v = e.getKey() ? validation.click(e.getValue().value())
                    : validation.request(e.getValue().value());
            verdicts.add(v);
            if (v.value() instanceof ScoreRequest r) {
                requestIds.merge(r.requestId(), 1, Integer::sum);
            }
        }
        List<Sent> sent = new ArrayList<>();
        Properties p = new Properties();
        p.put("bootstrap.servers", KAFKA.bootstrapServers());
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        // Idempotent, so that a send the broker refused for a moment (NotLeaderOrFollower right after
        // the topics were created, seen on a loaded machine) is retried without a chance of a duplicate.
        p.put("enable.idempotence", "true");
        p.put("acks", "all");
        p.put("linger.ms", "20");
        p.put("batch.size", Integer.toString(512 * 1024));
        p.put("max.request.size", Integer.toString(MAX_INPUT_BYTES));
        int lookAlikes = 0;
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        List<Sent> pending = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < inputs.size(); i++) {
                boolean click = inputs.get(i).getKey();
                HostileInputs.Input in = inputs.get(i).getValue();
                InputValidation.Outcome<?> verdict = verdicts.get(i);
                String reason = verdict.valid() ? null : verdict.reason().code();
                if (in.kind() == HostileInputs.Kind.EXTREME) {
                    assertThat(reason).as(in.label()).isEqualTo(in.expected());
                }
                String requestId = verdict.value() instanceof ScoreRequest r ? r.requestId() : null;
                if (requestId != null && requestIds.get(requestId) > 1 && in.kind() != HostileInputs.Kind.VALID
                        && in.kind() != HostileInputs.Kind.EXTREME) {
                    lookAlikes++;
                    continue;
                }
                // a valid record is keyed by its user, as producers must (a user's events in one
                // partition, in order); a mutation that stays valid may belong to another user now
                long user = verdict.value() instanceof ScoreRequest r ? r.userId()
                        : verdict.value() instanceof Click c ? c.userId() : 0;
                byte[] key = verdict.valid() ? UserKeys.key(user) : in.key();
                String topic = click ? topics.clicks() : topics.requests();
                acks.add(producer.send(new ProducerRecord<>(topic, key, in.value())));
                pending.add(new Sent(topic, -1, -1, in.kind(), in.label(), reason, requestId,
                        in.value() == null ? -1 : in.value().length,
                        reason == null ? null : in.value() == null ? "" : DeadLetters.sha256(in.value())));
            }
            producer.flush();
            for (int i = 0; i < acks.size(); i++) {
                RecordMetadata md = acks.get(i).get(60, TimeUnit.SECONDS); // a failed send fails the test
                Sent s = pending.get(i);
                sent.add(new Sent(s.topic(), md.partition(), md.offset(), s.kind(), s.label(), s.reason(), s.requestId(),
                        s.length(), s.sha256()));
            }
        }
        LOG.info("{} mutated requests not sent: their id is another valid request's", lookAlikes);
        return sent;
    }

    /** {@code n} records of the random mix for one topic, with the extremes spread among them. */
    private static List<HostileInputs.Input> mix(HostileInputs gen, boolean clicks, int n) {
        List<HostileInputs.Input> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(gen.next(clicks));
        }
        for (HostileInputs.Input e : gen.extremes(clicks)) {
            out.add(gen.nextInt(out.size() + 1), e);
        }
        return out;
    }

    /**
     * Reads the output topics from the start until each has its expected number of records, then
     * two seconds more to catch extras (read_committed under exactly-once).
     */
    private static Map<String, List<ConsumerRecord<byte[], byte[]>>> consume(Topics topics, DeliveryGuarantee guarantee,
                                                                             Map<String, Integer> expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", KAFKA.bootstrapServers());
        p.put("group.id", "fuzz-check-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", guarantee == DeliveryGuarantee.EXACTLY_ONCE ? "read_committed" : "read_uncommitted");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        Map<String, List<ConsumerRecord<byte[], byte[]>>> out = new HashMap<>();
        expected.keySet().forEach(t -> out.put(t, new ArrayList<>()));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.copyOf(expected.keySet()));
            long deadline = System.currentTimeMillis() + 120_000;
            long quietUntil = Long.MAX_VALUE;
            while (System.currentTimeMillis() < Math.min(deadline, quietUntil)) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> out.get(r.topic()).add(r));
                boolean all = expected.entrySet().stream().allMatch(e -> out.get(e.getKey()).size() >= e.getValue());
                if (all && quietUntil == Long.MAX_VALUE) {
                    quietUntil = System.currentTimeMillis() + 2_000;
                }
            }
        }
        expected.forEach((t, n) -> assertThat(out.get(t)).as("records on %s", t).hasSizeGreaterThanOrEqualTo(n));
        return out;
    }

    /**
     * The job is running and never restarted: no RESTARTING timestamp in its execution graph (read
     * from the MiniCluster's REST API) and a {@code numRestarts} metric of 0.
     */
    private static void assertNeverRestarted(JobClient job) throws Exception {
        assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
        Configuration c = FLINK.getClientConfiguration();
        String base = "http://" + c.get(RestOptions.ADDRESS) + ":" + c.get(RestOptions.PORT) + "/jobs/" + job.getJobID();
        HttpClient http = HttpClient.newHttpClient();
        JsonNode info = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(info.path("state").asText()).isEqualTo("RUNNING");
        // on failure, the job's exception history says what made it restart
        String exceptions = http.send(HttpRequest.newBuilder(URI.create(base + "/exceptions")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(info.path("timestamps").path("RESTARTING").asLong(-1)).as("RESTARTING timestamp; exceptions: %s",
                exceptions.length() > 4_000 ? exceptions.substring(0, 4_000) : exceptions).isZero();
        // the REST metric store fetches asynchronously: the first answers may be empty
        long deadline = System.currentTimeMillis() + 20_000;
        String restarts = null;
        while (restarts == null && System.currentTimeMillis() < deadline) {
            JsonNode metrics = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics?get=numRestarts"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body());
            if (metrics.size() > 0) {
                restarts = metrics.get(0).path("value").asText();
            } else {
                Thread.sleep(500);
            }
        }
        assertThat(restarts).as("numRestarts").isEqualTo("0");
    }
}

package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.KernelReproducibilityTest;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.Semantics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model upgrades through savepoints, end to end with a real Kafka broker and a MiniCluster:
 * run with model A and feed clicks; stop with a savepoint; start from it with model B (other
 * weights, H = 16 instead of 36, T = 12 instead of 20) and score: every score equals model B's
 * windowed result on the user's stored clicks, and the stored clicks are the same ones (trimmed to
 * B's T). A restart with model A scores as before the restart, to the last ulp or so (the Vector
 * API's exp/tanh round differently before and after the JIT compiles them; the bound is measured
 * by {@code KernelReproducibilityTest}), and rebuilds nobody. The {@code migrate} path
 * (State Processor API) gives the same scores with no rebuild in the job.
 */
class UpgradeITCase {
    private static final int USERS = 24;
    private static final double TOLERANCE = 2e-5;
    /** The same state and request scored by two runs: KernelReproducibilityTest's JIT bound. */
    private static final float SAME_COMPUTATION = KernelReproducibilityTest.JIT_TOLERANCE;

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).setConfiguration(ShippedStateBackend.cluster()).build());

    @RegisterExtension
    static final KafkaJobFixture KAFKA = new KafkaJobFixture();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void upgradeRebuildsFromStoredClicksAndSameModelRestartChangesNothing() throws Exception {
        String modelA = GoldenCases.bundleDir("official").toString();
        String modelB = GoldenCases.bundleDir("torch").toString();
        ModelBundle bundleA = GoldenCases.bundle("official");
        SplittableRandom rnd = new SplittableRandom(3);
        long[] itemsA = bundleA.longs("vocab.item");
        long[] catsA = bundleA.longs("vocab.category");
        Map<Long, List<long[]>> clicks = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = KAFKA.producer()) {
            for (int round = 0; round < 20; round++) {
                for (long user = 1; user <= USERS; user++) {
                    if (round < 2 + user % 19) { // users with 3 to 20 clicks
                        long item = itemsA[rnd.nextInt(itemsA.length)];
                        long cat = catsA[rnd.nextInt(catsA.length)];
                        clicks.computeIfAbsent(user, u -> new ArrayList<>()).add(new long[] {item, cat});
                        producer.send(new ProducerRecord<>(Topics.DEFAULT.clicks(), UserKeys.key(user), AvroMessages.encode(
                                new ClickEvent("c-" + user + "-" + round, user, item, cat, Instant.now()))));
                    }
                }
            }
        }
        long[][] candidates = {{itemsA[3], itemsA[7], 42L}, {catsA[1], catsA[2], catsA[0]}};

        // Run 1, model A: all clicks applied (each user's probe sees its whole history), then a savepoint.
        JobClient run1 = start(modelA, null);
        Map<String, CtrScore> before = requestAll(run1, "a1", candidates, clicks, 20);
        DienScorer a = DienModel.from(bundleA).newScorer();
        for (CtrScore s : before.values()) {
            // T = 20 and no user has more than 20 clicks: the streaming state is the windowed one
            assertScores(s, windowed(a, clicks.get(s.getUserId()), s.getUserId(), candidates), "model A");
        }
        String savepointA = run1.stopWithSavepoint(false, tmp.resolve("sp").toUri().toString(), SavepointFormatType.CANONICAL).get();
        List<UserSnapshot> storedA = SavedUsers.read(savepointA);
        assertThat(storedA).hasSize(USERS);

        // Run 2, model B from A's savepoint: every first request rebuilds the user under B.
        JobClient run2 = start(modelB, savepointA);
        DienScorer b = DienModel.from(GoldenCases.bundle("torch")).newScorer();
        Map<String, CtrScore> afterUpgrade = requestAll(run2, "b", candidates, clicks, 12);
        assertThat(metric(run2, "stateRebuilds")).isEqualTo(USERS);
        for (CtrScore s : afterUpgrade.values()) {
            List<long[]> stored = last(clicks.get(s.getUserId()), 12);
            assertScores(s, windowed(b, stored, s.getUserId(), candidates), "model B windowed");
        }
        String savepointB = run2.stopWithSavepoint(false, tmp.resolve("sp").toUri().toString(), SavepointFormatType.CANONICAL).get();
        Map<Long, long[][]> storedAfter = new HashMap<>();
        SavedUsers.read(savepointB).forEach(u -> storedAfter.put(u.userId, StoredClicks.of(u)));
        for (UserSnapshot u : storedA) {
            long[][] was = StoredClicks.of(u);
            long[][] now = storedAfter.get(u.userId);
            assertThat(now).as("user %d keeps its newest clicks", u.userId)
                    .isDeepEqualTo(java.util.Arrays.copyOfRange(was, Math.max(0, was.length - 12), was.length));
            assertThat(u.user.totalClicks()).isEqualTo(clicks.get(u.userId).size());
        }

        // Run 3, model A again from A's savepoint: the scores of run 1, no rebuild.
        JobClient run3 = start(modelA, savepointA);
        Map<String, CtrScore> again = requestAll(run3, "a3", candidates, clicks, 20);
        assertThat(metric(run3, "stateRebuilds")).isZero();
        for (long user = 1; user <= USERS; user++) {
            CtrScore was = before.get("a1-" + user);
            CtrScore now = again.get("a3-" + user);
            for (int i = 0; i < candidates[0].length; i++) {
                assertThat(now.getScores().get(i).getCtr()).as("user %d candidate %d", user, i)
                        .isCloseTo(was.getScores().get(i).getCtr(), within(SAME_COMPUTATION));
            }
        }
        run3.cancel().get();

        // migrate: A's savepoint rebuilt for B offline; the job under B then rebuilds nobody.
        String migrated = tmp.resolve("migrated").toUri().toString();
        SavepointMigration.Result r = SavepointMigration.migrate(savepointA, modelB, migrated, 2);
        assertThat(r.users()).isEqualTo(USERS);
        assertThat(r.rebuilt()).isEqualTo(USERS);
        assertThat(SavedUsers.read(migrated)).allSatisfy(u ->
                assertThat(u.user.modelFingerprint()).isEqualTo(GoldenCases.bundle("torch").fingerprint64()));
        JobClient run4 = start(modelB, migrated);
        Map<String, CtrScore> afterMigrate = requestAll(run4, "m", candidates, clicks, 12);
        assertThat(metric(run4, "stateRebuilds")).isZero();
        for (CtrScore s : afterMigrate.values()) {
            assertScores(s, windowed(b, last(clicks.get(s.getUserId()), 12), s.getUserId(), candidates), "migrated");
        }
        run4.cancel().get();
    }

    /**
     * The job with {@code model}, from a copy of {@code savepoint} if not null: the restore claims
     * the snapshot (the changelog state backend's CLAIM mode) and Flink deletes it once subsumed,
     * while this test reads and restores A's savepoint again later, as docs/upgrades.md's runbook
     * keeps a copy for its rollback.
     */
    private JobClient start(String model, String savepoint) throws Exception {
        String from = savepoint == null ? null : ShippedStateBackend.keptCopy(savepoint, tmp.resolve("restore-" + (++restores)));
        return KAFKA.startJob(model, from, tmp.resolve("checkpoints"), "dien-upgrade-itcase", conf -> { });
    }

    private int restores;

    /**
     * Sends one request per user (id prefix-user) and waits for all scores whose history length shows
     * the user's full stored window, i.e. every click was applied before the request was scored;
     * requests that raced ahead of the clicks are re-sent.
     */
    private Map<String, CtrScore> requestAll(JobClient job, String prefix, long[][] candidates, Map<Long, List<long[]>> clicks,
                                             int window) throws Exception {
        Map<String, CtrScore> done = new HashMap<>();
        long deadline = System.currentTimeMillis() + 180_000;
        int attempt = 0;
        try (KafkaProducer<byte[], byte[]> producer = KAFKA.producer(); KafkaConsumer<byte[], byte[]> consumer = KAFKA.consumer("upgrade", false)) {
            consumer.subscribe(List.of(Topics.DEFAULT.scores()));
            while (done.size() < USERS && System.currentTimeMillis() < deadline) {
                attempt++;
                for (long user = 1; user <= USERS; user++) {
                    if (!done.containsKey(prefix + "-" + user)) {
                        List<Candidate> c = new ArrayList<>();
                        for (int i = 0; i < candidates[0].length; i++) {
                            c.add(new Candidate(candidates[0][i], candidates[1][i]));
                        }
                        producer.send(new ProducerRecord<>(Topics.DEFAULT.requests(), UserKeys.key(user), AvroMessages.encode(
                                new AdRequest(prefix + "-" + user + "#" + attempt, user, Instant.now(), c))));
                    }
                }
                producer.flush();
                long until = System.currentTimeMillis() + 3_000;
                while (System.currentTimeMillis() < until) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        CtrScore s = AvroMessages.decoder(CtrScore.class).decode(r.value());
                        String id = s.getRequestId();
                        if (!id.startsWith(prefix + "-")) {
                            continue;
                        }
                        String key = id.substring(0, id.indexOf('#'));
                        int full = Math.min(clicks.get(s.getUserId()).size(), window);
                        if (s.getHistoryLength() == full) {
                            done.put(key, s);
                        }
                    }
                }
            }
        }
        assertThat(done).as("scores of " + prefix).hasSize(USERS);
        return done;
    }

    private static float[] windowed(DienScorer scorer, List<long[]> clicks, long user, long[][] candidates) {
        InterestState s = scorer.newState();
        clicks.forEach(c -> s.append(scorer, c[0], c[1]));
        float[] ctr = new float[candidates[0].length];
        s.score(scorer, user, candidates[0], candidates[1], ctr.length, Semantics.WINDOWED, ctr);
        return ctr;
    }

    private static void assertScores(CtrScore s, float[] expected, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) s.getScores().get(i).getCtr()).as("%s: user %d candidate %d", what, s.getUserId(), i)
                    .isCloseTo(expected[i], within(TOLERANCE));
        }
    }

    private static List<long[]> last(List<long[]> clicks, int n) {
        return clicks.subList(Math.max(0, clicks.size() - n), clicks.size());
    }

    /**
     * Sum over subtasks of a scoring-operator metric, read from the MiniCluster's REST API (which
     * fetches metrics every few seconds, hence the wait for a value covering every request sent).
     */
    private static long metric(JobClient job, String name) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        long lastRequests = -1;
        while (System.currentTimeMillis() < deadline) {
            Long requests = metricOnce(job, "requests");
            Long value = metricOnce(job, name);
            if (requests != null && value != null && requests == lastRequests) {
                return value; // stable: the store has caught up with the job
            }
            lastRequests = requests == null ? -1 : requests;
            Thread.sleep(3_000);
        }
        throw new AssertionError("no stable value of metric " + name);
    }

    private static Long metricOnce(JobClient job, String name) throws Exception {
        Configuration c = FLINK.getClientConfiguration();
        String base = "http://" + c.get(RestOptions.ADDRESS) + ":" + c.get(RestOptions.PORT) + "/jobs/" + job.getJobID();
        HttpClient http = HttpClient.newHttpClient();
        JsonNode jobInfo = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode v : jobInfo.path("vertices")) {
            if (!v.path("name").asText().contains("DIEN interest state")) {
                continue;
            }
            String vertex = base + "/vertices/" + v.path("id").asText() + "/subtasks/metrics";
            JsonNode available = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(vertex)).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            for (JsonNode m : available) {
                String id = m.path("id").asText();
                if (id.endsWith("." + name)) {
                    JsonNode values = JSON.readTree(http.send(HttpRequest.newBuilder(
                            URI.create(vertex + "?get=" + id + "&agg=sum")).build(), HttpResponse.BodyHandlers.ofString()).body());
                    return (long) values.get(0).path("sum").asDouble();
                }
            }
        }
        return null;
    }

}

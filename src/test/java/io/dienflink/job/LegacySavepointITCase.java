package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.local.EmbeddedKafkaCluster;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Kernels;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes, and checks, the legacy savepoint fixture {@code src/test/resources/fixtures/legacy-savepoint-v1/}:
 * a savepoint of the scoring operator in the per-user layout of release 619fd5e ({@code user-header}
 * value state of {@link UserHeader} plus {@code user-window} map state of ring slot to {@link
 * ClickEntry}, with that release's {@link StateSerializers}), the clicks that built it, fixed requests
 * and the scores that release's job returned for them. A later release, whose state layout differs,
 * proves with it that it restores such a savepoint and scores every user exactly as before.
 *
 * <p>{@link #restoredCopyScoresAsRecorded} runs in every build (failsafe): it restores the committed
 * fixture with the current code, whose layout is the compact one of issue 18, and checks that every
 * user scores exactly as release 619fd5e scored it, before and after new clicks.
 *
 * <p><b>{@link #generate} is only ever run with the production code of release 619fd5e</b> (the
 * release before the compact state layout), i.e. on a checkout of the commit that added this class
 * (d308b7b, whose {@code src/main} is 619fd5e's): the fixture must be written by that release's
 * code. On a later commit it would write a fixture of that commit's layout, which is not what the
 * fixture stands for. It is tagged {@code fixture}, which the build's {@code excludedGroups} leaves
 * out of every normal run. Regenerate with (both tests, in order; about a minute on 2 cores):
 *
 * <pre>
 * git worktree add ../legacy-fixture d308b7b
 * cd ../legacy-fixture
 * ./mvnw -B -o test -Dtest=LegacySavepointFixtureGenerator -DexcludedGroups=none
 * </pre>
 *
 * The output directory is {@code dien.fixture.dir} (default the path above, relative to the project).
 *
 * <p>What {@link #generate} does: the real job ({@link DienScoringJob#forKafka}, parallelism 2, the
 * shipped changelog-over-RocksDB state backend of {@link ShippedStateBackend}) on a MiniCluster and a
 * real Kafka broker, with the demo bundle (T = 30, H = 36), is sent the clicks of 40 users (fewer than,
 * exactly and more than T clicks, duplicate event ids within and beyond the de-duplication window, ids
 * unknown to the vocabularies); once every click is applied it is sent two requests per user (and for
 * two users without state) and the scores are recorded; it is stopped with a canonical savepoint. The
 * State Processor API then writes a copy that holds only the scorer's state (the Kafka sources', the
 * decoders' and the sinks' operators removed, so that the savepoint restores against any broker),
 * its files copied byte for byte and its max parallelism as the job wrote it. Last, {@link
 * #restoredCopyScoresAsRecorded}'s restore runs on the written fixture and records the second
 * phase's scores (clicks sent after the restore, then requests).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LegacySavepointITCase {
    private static final Logger LOG = LoggerFactory.getLogger(LegacySavepointITCase.class);

    /** Where the fixture is written and read: {@code dien.fixture.dir}, relative to the project by default. */
    static final Path FIXTURE = Path.of(System.getProperty("dien.fixture.dir",
            "src/test/resources/fixtures/legacy-savepoint-v1"));
    /** The shipped demo bundle: T = 30, H = 36; its vocabulary ids are the multiples of 1,000. */
    static final Path BUNDLE = Path.of("bundles", "demo");
    static final String SAVEPOINT = "savepoint";
    static final String CLICKS = "clicks.json";
    static final String REQUESTS = "requests.json";
    static final String EXPECTED = "expected-scores.json";
    static final String CLICKS_AFTER_RESTORE = "clicks-after-restore.json";
    static final String REQUESTS_AFTER_CLICKS = "requests-after-clicks.json";
    static final String EXPECTED_AFTER_CLICKS = "expected-scores-after-clicks.json";
    static final String INFO = "fixture.json";
    /** The release whose production code (src/main) writes the fixture: the last one with this state layout. */
    static final String LEGACY_RELEASE = "619fd5e";

    private static final int T = 30;
    /** The job's default {@code dien.click.dedup-window}, which the run keeps. */
    private static final int DEDUP_WINDOW = DienJobOptions.DEDUP_WINDOW.defaultValue();
    /**
     * The generating run's {@code dien.state.inactivity-expiry}: the expiry timers the savepoint holds
     * then lie a century ahead, so that a restore years from now with the default 14 days expires
     * nobody before the requests arrive (with the default, every timer in the fixture would be due at
     * the restore, and the job would remove every user).
     */
    static final Duration GENERATION_EXPIRY = Duration.ofDays(36_500);
    /** A user id outside the bundle's user vocabulary (whose ids are multiples of 1,000). */
    private static final long UNKNOWN_USER = 9_999_999_001L;
    /** Item and category ids outside the bundle's vocabularies. */
    private static final long UNKNOWN_ITEM_BASE = 7_000_001L;
    private static final long UNKNOWN_CATEGORY_BASE = 70_001L;
    private static final Duration SCORE_TIMEOUT = Duration.ofMinutes(3);
    /** Model-core repetitions before the job starts, so that C2 has compiled the kernels (see {@link #warmUpKernels}). */
    private static final int WARM_UP_REPETITIONS = 4_000;

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).setConfiguration(ShippedStateBackend.cluster()).build());

    @TempDir
    Path tmp;

    /** One click as sent: its event id (duplicates repeat one) and the ids the model embeds. */
    record FixtureClick(String eventId, long itemId, long categoryId) {}

    /**
     * A user's clicks in the order sent (one user's clicks share a partition, so the job applies them in
     * this order), and what the user's state shows once they are processed.
     *
     * @param clicksAppliedAfter the user's {@code clicks_applied} after these clicks (earlier phases included)
     */
    record UserClicks(long userId, String userCase, int clicksSent, long clicksAppliedAfter, List<FixtureClick> clicks) {}

    record FixtureCandidate(long itemId, long categoryId) {}

    record FixtureRequest(String requestId, long userId, List<FixtureCandidate> candidates) {}

    /** A candidate's CTR; {@code ctrBits} (the float's raw bits, hex) is exact, {@code ctr} for people. */
    record ExpectedCtr(long itemId, float ctr, String ctrBits) {}

    /** A score as the job returned it, without its times. */
    record ExpectedScore(String requestId, long userId, String modelVersion, String modelFingerprint, int historyLength,
                         long clicksApplied, List<ExpectedCtr> scores) {}

    /**
     * What the fixture is, for a reader that restores it: the release and bundle that wrote it, the
     * kernels that computed its scores (bit-equal scores need the same ones, see {@link
     * #restoredCopyScoresAsRecorded}), the scorer's operator and its states.
     */
    record FixtureInfo(String release, String bundle, String modelVersion, String modelFingerprint, int maxHistory,
                       int hiddenDim, String kernels, String javaVersion, String scorerUid, String scorerOperatorId,
                       int parallelism, int maxParallelism, int dedupWindow, String generationExpiry,
                       List<String> keyedStates, List<String> removedOperators) {}

    /** What a restore of the fixture returned: the scores of both phases by request id. */
    private record Restored(Map<String, ExpectedScore> phase1, Map<String, ExpectedScore> phase2) {}

    @Test
    @Order(1)
    @Tag("fixture")
    void generate() throws Exception {
        ModelBundle bundle = ModelBundle.load(BUNDLE);
        assertThat(bundle.config().maxHistory()).as("the demo bundle's T").isEqualTo(T);
        long[] items = bundle.longs("vocab.item");
        long[] categories = bundle.longs("vocab.category");
        warmUpKernels(bundle);

        List<UserClicks> users = usersBeforeSavepoint(items, categories);
        List<FixtureRequest> requests = requestsBeforeSavepoint(users, items, categories);
        List<UserClicks> later = clicksAfterRestore(users, items, categories);
        List<FixtureRequest> laterRequests = requestsAfterClicks(later, items, categories);

        // Run 1: the clicks, then the requests once every click is applied, then the savepoint.
        String savepoint;
        Map<String, ExpectedScore> recorded;
        try (Broker broker = Broker.start(Topics.prefixed("generate"))) {
            JobClient job = broker.startJob(null, tmp.resolve("checkpoints-generate"), "legacy fixture: generate",
                    conf -> conf.set(DienJobOptions.INACTIVITY_EXPIRY, GENERATION_EXPIRY));
            broker.sendClicks(users);
            List<FixtureRequest> probes = users.stream().map(u -> new FixtureRequest("probe-" + u.userId(), u.userId(),
                    List.of(new FixtureCandidate(items[0], categories[0])))).toList();
            broker.score(probes, appliedByUser(users), true); // re-sent until each shows all its clicks applied
            recorded = broker.score(requests, appliedByUser(users), false);
            savepoint = job.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get();
        }
        assertRecorded(recorded, requests, appliedByUser(users), bundle);
        LOG.info("Run 1 scored {} requests of {} users; savepoint {}", recorded.size(), users.size(), savepoint);

        // Only the scorer's state, into a directory of its own; then the fixture is a copy of that directory.
        Path trimmed = tmp.resolve("trimmed");
        List<String> removed = keepOnlyScorer(savepoint, trimmed.toUri().toString());
        checkTrimmed(savepoint, trimmed);
        deleteTree(FIXTURE.resolve(SAVEPOINT));
        Files.createDirectories(FIXTURE);
        ShippedStateBackend.keptCopy(trimmed.toUri().toString(), FIXTURE.resolve(SAVEPOINT));
        // Nothing may point back at where the fixture was made: the restore below must read only the fixture's files.
        deleteTree(trimmed);
        deleteTree(Path.of(java.net.URI.create(savepoint)));

        OperatorState scorer = SavepointLoader.loadSavepointMetadata(FIXTURE.resolve(SAVEPOINT).toUri().toString())
                .getOperatorStates().iterator().next();
        FixtureInfo info = new FixtureInfo(LEGACY_RELEASE, BUNDLE.toString().replace('\\', '/'), bundle.config().modelVersion(),
                bundle.fingerprint(), T, bundle.config().hiddenDim(), Kernels.best().describe(),
                System.getProperty("java.runtime.version"), DienScoringJob.UID_SCORER, scorer.getOperatorID().toHexString(),
                scorer.getParallelism(), scorer.getMaxParallelism(), DEDUP_WINDOW, GENERATION_EXPIRY.toString(),
                List.of(HEADER.getName() + ": ValueState<UserHeader>, StateSerializers.UserHeaderSerializer",
                        WINDOW.getName() + ": MapState<Integer, ClickEntry>, IntSerializer and StateSerializers.ClickEntrySerializer",
                        "_timer_state/processing_user-timers: the expiry timers (one per user)",
                        "_timer_state/event_user-timers: empty"),
                removed);
        JSON.writerWithDefaultPrettyPrinter().writeValue(FIXTURE.resolve(INFO).toFile(), info);
        writeJson(FIXTURE.resolve(CLICKS), users);
        writeJson(FIXTURE.resolve(REQUESTS), requests);
        writeJson(FIXTURE.resolve(EXPECTED), requests.stream().map(r -> recorded.get(r.requestId())).toList());
        writeJson(FIXTURE.resolve(CLICKS_AFTER_RESTORE), later);
        writeJson(FIXTURE.resolve(REQUESTS_AFTER_CLICKS), laterRequests);

        checkStoredUsers(FIXTURE.resolve(SAVEPOINT), users, bundle);
        Restored restored = restore(FIXTURE, requests, later, laterRequests);
        assertSameScores(restored.phase1(), recorded, true, "restored fixture, requests before any new click");
        assertRecorded(restored.phase2(), laterRequests, appliedByUser(later), bundle);
        writeJson(FIXTURE.resolve(EXPECTED_AFTER_CLICKS),
                laterRequests.stream().map(r -> restored.phase2().get(r.requestId())).toList());
        LOG.info("Fixture written to {}", FIXTURE.toAbsolutePath());
    }

    /**
     * The committed fixture, copied to a temporary directory (a savepoint must be relocatable) and
     * restored by this release's job on a fresh broker with new topics and the job's default settings:
     * every request scores exactly as recorded (the same floats, bit for bit, the same history length,
     * clicks applied and model fingerprint), before and after the clicks sent after the restore.
     *
     * <p>Bit for bit needs the kernels that recorded the scores: the Vector API's preferred species is
     * the machine's widest vector ({@code fixture.json}'s {@code kernels}, e.g. "vector 512-bit" on
     * AVX-512), and other widths sum in another order. Measured with {@code -XX:MaxVectorSize=32}
     * (256-bit) on the fixture: 83 of the 84 first requests' scores differ, by at most 0.6 float32
     * ulps of 1 (7·10⁻⁸). On such a
     * machine the CTRs are compared within {@link Reproducibility#TOLERANCE} instead (logged at WARN),
     * everything else still exactly.
     */
    @Test
    @Order(2)
    void restoredCopyScoresAsRecorded() throws Exception {
        ModelBundle bundle = ModelBundle.load(BUNDLE);
        warmUpKernels(bundle);
        FixtureInfo info = JSON.readValue(FIXTURE.resolve(INFO).toFile(), FixtureInfo.class);
        assertThat(info.modelFingerprint()).isEqualTo(bundle.fingerprint());
        boolean exact = info.kernels().equals(Kernels.best().describe());
        if (!exact) {
            LOG.warn("The fixture's scores were computed with {} kernels, this JVM has {}: CTRs compared within {}, not bit for bit",
                    info.kernels(), Kernels.best().describe(), Reproducibility.TOLERANCE);
        }
        List<FixtureRequest> requests = readJson(FIXTURE.resolve(REQUESTS), new TypeReference<>() {});
        List<UserClicks> later = readJson(FIXTURE.resolve(CLICKS_AFTER_RESTORE), new TypeReference<>() {});
        List<FixtureRequest> laterRequests = readJson(FIXTURE.resolve(REQUESTS_AFTER_CLICKS), new TypeReference<>() {});
        Map<String, ExpectedScore> expected = byRequestId(readJson(FIXTURE.resolve(EXPECTED), new TypeReference<>() {}));
        Map<String, ExpectedScore> expectedLater =
                byRequestId(readJson(FIXTURE.resolve(EXPECTED_AFTER_CLICKS), new TypeReference<>() {}));
        assertThat(expected).hasSameSizeAs(requests);
        assertThat(expectedLater).hasSameSizeAs(laterRequests);
        assertThat(expected.values()).allSatisfy(s -> assertThat(s.modelFingerprint()).isEqualTo(bundle.fingerprint()));

        Restored restored = restore(FIXTURE, requests, later, laterRequests);
        assertSameScores(restored.phase1(), expected, exact, "requests before any new click");
        assertSameScores(restored.phase2(), expectedLater, exact, "requests after the clicks sent after the restore");
    }

    /**
     * Restores a copy of {@code fixture}'s savepoint with the job's default settings (expiry 14 days,
     * de-dup window 64, parallelism 2) on a fresh broker and new topics; sends the requests and collects
     * their scores (each must show the restored user's clicks, nothing is pending); then sends the
     * clicks and re-sends each later request until its score shows them applied.
     */
    private Restored restore(Path fixture, List<FixtureRequest> requests, List<UserClicks> later,
                             List<FixtureRequest> laterRequests) throws Exception {
        Path relocated = tmp.resolve("relocated-" + System.nanoTime());
        Files.createDirectories(relocated);
        // a restore claims its snapshot (CLAIM mode), and Flink deletes a claimed one once subsumed: restore a copy
        String copy = ShippedStateBackend.keptCopy(fixture.resolve(SAVEPOINT).toUri().toString(), relocated.resolve(SAVEPOINT));
        try (Broker broker = Broker.start(Topics.prefixed("restored"))) {
            JobClient job = broker.startJob(copy, tmp.resolve("checkpoints-restore-" + System.nanoTime()),
                    "legacy fixture: restore", conf -> { });
            Map<String, ExpectedScore> phase1 = broker.score(requests, appliedOf(requests, fixture), false);
            broker.sendClicks(later);
            Map<String, ExpectedScore> phase2 = broker.score(laterRequests, appliedByUser(later), true);
            job.cancel().get();
            return new Restored(phase1, phase2);
        }
    }

    /** Each request's user's clicks applied at the savepoint, from the fixture's clicks (0 for users without any). */
    private static Map<Long, Long> appliedOf(List<FixtureRequest> requests, Path fixture) throws IOException {
        Map<Long, Long> applied = appliedByUser(readJson(fixture.resolve(CLICKS), new TypeReference<List<UserClicks>>() {}));
        requests.forEach(r -> applied.putIfAbsent(r.userId(), 0L));
        return applied;
    }

    private static Map<Long, Long> appliedByUser(List<UserClicks> users) {
        Map<Long, Long> m = new HashMap<>();
        users.forEach(u -> m.put(u.userId(), u.clicksAppliedAfter()));
        return m;
    }

    // ---- the users, clicks and requests ----

    /**
     * The users of the savepoint, 40 of them, user ids 1,000 · k (in the user vocabulary) unless the case
     * says otherwise. T = 30, de-dup window 64.
     */
    static List<UserClicks> usersBeforeSavepoint(long[] items, long[] categories) {
        SplittableRandom rnd = new SplittableRandom(619);
        List<UserClicks> users = new ArrayList<>();
        long[] k = {0};
        java.util.function.Supplier<Long> nextUser = () -> 1_000L * ++k[0];
        for (int n : new int[] {1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 17, 20, 22, 25, 27, 29}) {
            users.add(user(nextUser.get(), "fewer than T (" + n + ")", plain(rnd, n, items, categories, 0)));
        }
        for (int i = 0; i < 3; i++) {
            users.add(user(nextUser.get(), "exactly T (30)", plain(rnd, T, items, categories, 0)));
        }
        for (int n : new int[] {31, 33, 40, 45, 59, 60, 61, 70, 88, 90, 95, 130, 150}) {
            users.add(user(nextUser.get(), "more than T (" + n + "), ring wrapped", plain(rnd, n, items, categories, 0)));
        }
        // duplicate event ids: retries right after, a re-send 20 clicks later (all within the de-dup window)
        {
            List<FixtureClick> distinct = plain(rnd, 38, items, categories, 0);
            List<FixtureClick> sent = new ArrayList<>();
            for (int i = 0; i < distinct.size(); i++) {
                sent.add(distinct.get(i));
                if (i % 4 == 1) {
                    sent.add(distinct.get(i)); // a producer retry
                }
                if (i == 30) {
                    sent.add(distinct.get(10)); // a replay of an older click, 20 clicks back
                }
            }
            users.add(user(nextUser.get(), "duplicates within the de-dup window (38 distinct, more than T)", sent));
        }
        {
            List<FixtureClick> distinct = plain(rnd, 15, items, categories, 0);
            List<FixtureClick> sent = new ArrayList<>();
            for (int i = 0; i < distinct.size(); i++) {
                sent.add(distinct.get(i));
                if (i < 5) {
                    sent.add(distinct.get(i));
                }
            }
            users.add(user(nextUser.get(), "duplicates within the de-dup window (15 distinct, fewer than T)", sent));
        }
        {
            FixtureClick once = plain(rnd, 1, items, categories, 0).get(0);
            users.add(user(nextUser.get(), "one event id sent 10 times", java.util.Collections.nCopies(10, once)));
        }
        {
            // 80 distinct, then click 0 again (80 clicks back: beyond the window of 64, applied again)
            // and click 30 again (50 back: within it, ignored)
            List<FixtureClick> distinct = plain(rnd, 80, items, categories, 0);
            List<FixtureClick> sent = new ArrayList<>(distinct);
            sent.add(distinct.get(0));
            sent.add(distinct.get(30));
            users.add(user(nextUser.get(), "a duplicate beyond the de-dup window (applied again) and one within it", sent));
        }
        users.add(user(nextUser.get(), "unknown item ids (every 4th click), fewer than T",
                plain(rnd, 20, items, categories, 4)));
        {
            List<FixtureClick> c = plain(rnd, 40, items, categories, 0);
            List<FixtureClick> withUnknownCategories = new ArrayList<>();
            for (int i = 0; i < c.size(); i++) {
                FixtureClick x = c.get(i);
                withUnknownCategories.add(i % 3 == 0 ? new FixtureClick(x.eventId(), x.itemId(), UNKNOWN_CATEGORY_BASE + i) : x);
            }
            users.add(user(nextUser.get(), "unknown category ids (every 3rd click), more than T", withUnknownCategories));
        }
        {
            List<FixtureClick> c = new ArrayList<>();
            for (int i = 0; i < 35; i++) {
                c.add(new FixtureClick(eventId(rnd), UNKNOWN_ITEM_BASE + 1_000L * i + 3, UNKNOWN_CATEGORY_BASE + 500 + i));
            }
            users.add(user(nextUser.get(), "only unknown item and category ids, more than T", c));
        }
        users.add(user(UNKNOWN_USER, "user id unknown to the user vocabulary, unknown item ids (every 5th click)",
                plain(rnd, 12, items, categories, 5)));
        return users;
    }

    /**
     * The users who click after the restore: each one's re-sent ids first (a replay the restored
     * de-dup memory must catch) and new clicks last, so that a score showing the new clicks applied
     * shows the whole batch processed. User 45,000 has no state in the savepoint.
     */
    static List<UserClicks> clicksAfterRestore(List<UserClicks> before, long[] items, long[] categories) {
        SplittableRandom rnd = new SplittableRandom(2);
        Map<String, UserClicks> byCase = new LinkedHashMap<>();
        before.forEach(u -> byCase.putIfAbsent(u.userCase(), u));
        List<UserClicks> later = new ArrayList<>();
        later.add(after(byCase.get("fewer than T (1)"), "one click, then 3 more", List.of(), plain(rnd, 3, items, categories, 0)));
        later.add(after(byCase.get("fewer than T (29)"), "29 clicks, then 2 more: the ring wraps after the restore",
                List.of(), plain(rnd, 2, items, categories, 0)));
        later.add(after(byCase.get("exactly T (30)"), "exactly T, then 1 more", List.of(), plain(rnd, 1, items, categories, 0)));
        later.add(after(byCase.get("more than T (70), ring wrapped"), "70 clicks, then 5 more", List.of(),
                plain(rnd, 5, items, categories, 0)));
        UserClicks dup = byCase.get("duplicates within the de-dup window (38 distinct, more than T)");
        later.add(after(dup, "3 of its last ids re-sent (ignored), then 2 new clicks",
                lastDistinct(dup, 3), plain(rnd, 2, items, categories, 0)));
        UserClicks beyond = byCase.get("a duplicate beyond the de-dup window (applied again) and one within it");
        later.add(after(beyond, "a recent id re-sent (ignored), then 1 new click", lastDistinct(beyond, 1),
                plain(rnd, 1, items, categories, 0)));
        later.add(after(byCase.get("unknown item ids (every 4th click), fewer than T"), "2 more, one with an unknown item id",
                List.of(), plain(rnd, 2, items, categories, 2)));
        later.add(user(45_000L, "no state in the savepoint: 4 clicks after the restore", plain(rnd, 4, items, categories, 0)));
        return later;
    }

    private static List<FixtureClick> lastDistinct(UserClicks u, int n) {
        List<FixtureClick> distinct = u.clicks().stream().distinct().toList();
        return distinct.subList(distinct.size() - n, distinct.size());
    }

    /** Two requests per user with clicks, and two each for a known and an unknown user without state. */
    static List<FixtureRequest> requestsBeforeSavepoint(List<UserClicks> users, long[] items, long[] categories) {
        SplittableRandom rnd = new SplittableRandom(86);
        List<Long> ids = new ArrayList<>(users.stream().map(UserClicks::userId).toList());
        ids.add(44_000L); // in the user vocabulary, never clicked
        ids.add(UNKNOWN_USER + 1); // outside it, never clicked
        List<FixtureRequest> requests = new ArrayList<>();
        int n = 0;
        for (long user : ids) {
            for (int r = 1; r <= 2; r++) {
                requests.add(new FixtureRequest("legacy-v1-" + user + "-" + r, user, candidates(rnd, items, categories, n++ % 5 == 0)));
            }
        }
        return requests;
    }

    /** One request per user who clicked after the restore. */
    static List<FixtureRequest> requestsAfterClicks(List<UserClicks> later, long[] items, long[] categories) {
        SplittableRandom rnd = new SplittableRandom(87);
        List<FixtureRequest> requests = new ArrayList<>();
        int n = 0;
        for (UserClicks u : later) {
            requests.add(new FixtureRequest("legacy-v1-after-" + u.userId(), u.userId(), candidates(rnd, items, categories, n++ % 3 == 0)));
        }
        return requests;
    }

    /** 5 to 10 candidates from the vocabularies; with {@code unknown}, the last two carry an unknown item and an unknown category. */
    private static List<FixtureCandidate> candidates(SplittableRandom rnd, long[] items, long[] categories, boolean unknown) {
        int n = 5 + rnd.nextInt(6);
        List<FixtureCandidate> c = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            c.add(new FixtureCandidate(items[rnd.nextInt(items.length)], categories[rnd.nextInt(categories.length)]));
        }
        if (unknown) {
            c.set(n - 2, new FixtureCandidate(UNKNOWN_ITEM_BASE + 17, c.get(n - 2).categoryId()));
            c.set(n - 1, new FixtureCandidate(c.get(n - 1).itemId(), UNKNOWN_CATEGORY_BASE + 17));
        }
        return c;
    }

    /** {@code n} clicks with fresh event ids; with {@code unknownEvery > 0}, every such click's item id is unknown. */
    private static List<FixtureClick> plain(SplittableRandom rnd, int n, long[] items, long[] categories, int unknownEvery) {
        List<FixtureClick> c = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long item = unknownEvery > 0 && i % unknownEvery == unknownEvery - 1
                    ? UNKNOWN_ITEM_BASE + 1_000L * rnd.nextInt(100) + 1 : items[rnd.nextInt(items.length)];
            c.add(new FixtureClick(eventId(rnd), item, categories[rnd.nextInt(categories.length)]));
        }
        return c;
    }

    private static String eventId(SplittableRandom rnd) {
        return String.format("click-%016x", rnd.nextLong());
    }

    /** A user of the savepoint: clicks applied as the job de-duplicates them (the last 64 applied ids). */
    private static UserClicks user(long userId, String userCase, List<FixtureClick> sent) {
        return new UserClicks(userId, userCase, sent.size(), applied(List.of(), sent).size(), List.copyOf(sent));
    }

    /** A later batch of a user of the savepoint. */
    private static UserClicks after(UserClicks before, String userCase, List<FixtureClick> resent, List<FixtureClick> fresh) {
        List<FixtureClick> sent = new ArrayList<>(resent);
        sent.addAll(fresh);
        List<FixtureClick> all = applied(before.clicks(), sent);
        return new UserClicks(before.userId(), userCase, sent.size(), all.size(), sent);
    }

    /**
     * The clicks the job applies, in order, from {@code earlier} then {@code sent}: a click whose event
     * id is among the last {@code dien.click.dedup-window} (64) applied ones is skipped ({@link UserHeader#seen}).
     */
    static List<FixtureClick> applied(List<FixtureClick> earlier, List<FixtureClick> sent) {
        List<FixtureClick> applied = new ArrayList<>();
        Deque<String> recent = new ArrayDeque<>();
        for (FixtureClick c : Stream.concat(earlier.stream(), sent.stream()).toList()) {
            if (recent.contains(c.eventId())) {
                continue;
            }
            applied.add(c);
            recent.addLast(c.eventId());
            if (recent.size() > DEDUP_WINDOW) {
                recent.removeFirst();
            }
        }
        return applied;
    }

    // ---- the savepoint ----

    /**
     * Writes {@code output}: the savepoint with every operator but the scorer removed. The scorer's
     * operator state is carried over as it is (the State Processor API copies its files and keeps its
     * handles, parallelism and max parallelism); no state is read or rewritten.
     *
     * @return the removed operators, by uid (or by operator id if the uid is not one of the job's)
     */
    static List<String> keepOnlyScorer(String savepoint, String output) throws Exception {
        CheckpointMetadata metadata = SavepointLoader.loadSavepointMetadata(savepoint);
        Map<OperatorID, String> names = knownOperators();
        OperatorID scorer = OperatorIdentifier.forUid(DienScoringJob.UID_SCORER).getOperatorId();
        StreamExecutionEnvironment env = SavepointMigration.environment(1);
        SavepointWriter writer = SavepointWriter.fromExistingSavepoint(env, savepoint, new EmbeddedRocksDBStateBackend(true));
        List<String> removed = new ArrayList<>();
        for (OperatorState s : metadata.getOperatorStates()) {
            String name = names.getOrDefault(s.getOperatorID(), s.getOperatorID().toHexString());
            LOG.info("Savepoint operator {} ({}): parallelism {}, max parallelism {}, state size {} bytes",
                    s.getOperatorID(), name, s.getParallelism(), s.getMaxParallelism(), s.getStateSize());
            if (!s.getOperatorID().equals(scorer)) {
                writer.removeOperator(OperatorIdentifier.forUidHash(s.getOperatorID().toHexString()));
                removed.add(name);
            }
        }
        writer.write(output);
        env.execute("legacy fixture: keep only the scorer's state");
        removed.sort(null);
        return removed;
    }

    /**
     * The job's operators by the id Flink derives from their uid. A sink's committer is an operator of
     * its own, whose uid Flink makes from the sink's ("Sink Committer: " + uid).
     */
    private static Map<OperatorID, String> knownOperators() {
        Map<OperatorID, String> m = new HashMap<>();
        for (String uid : List.of(DienScoringJob.UID_CLICKS_SOURCE, DienScoringJob.UID_REQUESTS_SOURCE,
                DienScoringJob.UID_CLICKS_DECODE, DienScoringJob.UID_REQUESTS_DECODE, DienScoringJob.UID_SCORER,
                DienScoringJob.UID_SCORES_SINK, DienScoringJob.UID_DEAD_LETTER_SINK,
                "Sink Committer: " + DienScoringJob.UID_SCORES_SINK, "Sink Committer: " + DienScoringJob.UID_DEAD_LETTER_SINK)) {
            m.put(OperatorIdentifier.forUid(uid).getOperatorId(), uid);
        }
        return m;
    }

    /**
     * The trimmed savepoint holds the scorer alone, with the job's parallelism, max parallelism and key
     * group offsets, its state files equal byte for byte to the job's, and no path of this machine.
     */
    private static void checkTrimmed(String original, Path trimmed) throws IOException {
        OperatorID scorer = OperatorIdentifier.forUid(DienScoringJob.UID_SCORER).getOperatorId();
        OperatorState was = SavepointLoader.loadSavepointMetadata(original).getOperatorStates().stream()
                .filter(s -> s.getOperatorID().equals(scorer)).findFirst().orElseThrow();
        CheckpointMetadata now = SavepointLoader.loadSavepointMetadata(trimmed.toUri().toString());
        assertThat(now.getOperatorStates()).as("operators in the trimmed savepoint").hasSize(1);
        OperatorState is = now.getOperatorStates().iterator().next();
        assertThat(is.getOperatorID()).isEqualTo(scorer);
        assertThat(is.getMaxParallelism()).as("max parallelism").isEqualTo(was.getMaxParallelism());
        assertThat(is.getParallelism()).as("parallelism").isEqualTo(was.getParallelism());
        assertThat(is.getStateSize()).as("state size").isEqualTo(was.getStateSize());
        for (Map.Entry<Integer, OperatorSubtaskState> e : was.getSubtaskStates().entrySet()) {
            OperatorSubtaskState a = e.getValue();
            OperatorSubtaskState b = is.getState(e.getKey());
            assertThat(b).as("subtask %d", e.getKey()).isNotNull();
            assertThat(keyGroupOffsets(b)).as("subtask %d key group offsets", e.getKey()).isEqualTo(keyGroupOffsets(a));
            assertThat(b.getManagedOperatorState()).isEmpty();
            assertThat(b.getRawOperatorState()).isEmpty();
        }
        Path originalDir = Path.of(java.net.URI.create(original));
        try (Stream<Path> files = Files.list(trimmed)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.equals("_metadata")) {
                    String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    assertThat(text).as("the metadata names no path of this machine")
                            .doesNotContain("file:").doesNotContain(originalDir.getParent().toString()).doesNotContain("/tmp");
                } else {
                    assertThat(Files.readAllBytes(f)).as("state file %s, as the job wrote it", name)
                            .isEqualTo(Files.readAllBytes(originalDir.resolve(name)));
                }
            }
        }
    }

    private static List<String> keyGroupOffsets(OperatorSubtaskState s) {
        List<String> out = new ArrayList<>();
        for (KeyedStateHandle h : s.getManagedKeyedState()) {
            if (h instanceof KeyGroupsStateHandle k) {
                StringBuilder b = new StringBuilder(k.getKeyGroupRange().toString());
                for (int g : k.getKeyGroupRange()) {
                    b.append(' ').append(k.getOffsetForKeyGroup(g));
                }
                out.add(b.append(" size ").append(k.getStateSize()).toString());
            } else {
                out.add(h.getClass().getName());
            }
        }
        return out;
    }

    /**
     * The release's keyed state {@code user-header} as {@code InterestScorer.headerDescriptor()} declares
     * it. Spelled out here, with {@link #WINDOW}, so that this class needs only the legacy value classes
     * and their serializers, which any release restoring the fixture keeps (Flink instantiates their
     * serializer snapshots by class name on restore), and not the scorer's current descriptors.
     */
    static final ValueStateDescriptor<UserHeader> HEADER =
            new ValueStateDescriptor<>("user-header", StateSerializers.UserHeaderSerializer.INSTANCE);
    /** The release's keyed state {@code user-window}: ring slot to click, as {@code InterestScorer.windowDescriptor()} declares it. */
    static final MapStateDescriptor<Integer, ClickEntry> WINDOW =
            new MapStateDescriptor<>("user-window", IntSerializer.INSTANCE, StateSerializers.ClickEntrySerializer.INSTANCE);

    /** A stored user as {@link StoredUserReader} reads it: its header's fields and its window's clicks, oldest first. */
    record StoredUser(long userId, long modelFingerprint, int capacity, long totalClicks, int count, int hidden,
                      int rememberedIds, long expiryTimer, List<long[]> window) {}

    /**
     * Reads the fixture's savepoint (a copy) with the State Processor API and the release's states:
     * exactly the users with clicks, each with the header and window its clicks make (the last T applied
     * clicks, oldest first), the demo bundle's fingerprint, a de-dup memory of 64 ids, H = 36 states and
     * an expiry timer a century ahead.
     */
    private void checkStoredUsers(Path savepoint, List<UserClicks> users, ModelBundle bundle) throws Exception {
        String copy = ShippedStateBackend.keptCopy(savepoint.toUri().toString(), tmp.resolve("read-" + System.nanoTime()));
        StreamExecutionEnvironment env = SavepointMigration.environment(1);
        Map<Long, StoredUser> stored = new HashMap<>();
        try (var lines = SavepointReader.read(env, copy, new EmbeddedRocksDBStateBackend(true))
                .readKeyedState(OperatorIdentifier.forUid(DienScoringJob.UID_SCORER), new StoredUserReader(), Types.LONG, Types.STRING)
                .executeAndCollect("legacy fixture: read the stored users")) {
            while (lines.hasNext()) {
                String line = lines.next();
                if (!line.isEmpty()) {
                    StoredUser u = JSON.readValue(line, StoredUser.class);
                    stored.putIfAbsent(u.userId(), u); // a key read twice: the first reading counts
                }
            }
        }
        assertThat(stored.keySet()).as("users in the savepoint")
                .containsExactlyInAnyOrderElementsOf(users.stream().map(UserClicks::userId).toList());
        for (UserClicks u : users) {
            StoredUser s = stored.get(u.userId());
            List<FixtureClick> applied = applied(List.of(), u.clicks());
            List<FixtureClick> window = applied.subList(Math.max(0, applied.size() - T), applied.size());
            assertThat(s.modelFingerprint()).isEqualTo(bundle.fingerprint64());
            assertThat(s.capacity()).isEqualTo(T);
            assertThat(s.totalClicks()).as("user %d clicks applied", u.userId()).isEqualTo(u.clicksAppliedAfter());
            assertThat(s.count()).isEqualTo(window.size());
            assertThat(s.hidden()).isEqualTo(bundle.config().hiddenDim());
            assertThat(s.rememberedIds()).isEqualTo(DEDUP_WINDOW);
            assertThat(s.expiryTimer()).as("expiry timer a century ahead").isGreaterThan(
                    System.currentTimeMillis() + GENERATION_EXPIRY.toMillis() / 2);
            assertThat(s.window()).as("user %d window", u.userId())
                    .containsExactlyElementsOf(window.stream().map(c -> new long[] {c.itemId(), c.categoryId()}).toList());
        }
    }

    /**
     * Each user as a JSON line of {@link StoredUser} (the empty line for a key without header: a key
     * without output would reach the collector as a null record). The window is read in ring order:
     * {@code count} slots ending before {@code next}, every slot's entry present and with an H-state.
     */
    static final class StoredUserReader extends KeyedStateReaderFunction<Long, String> {
        private transient ValueState<UserHeader> header;
        private transient MapState<Integer, ClickEntry> window;

        @Override
        public void open(OpenContext context) {
            header = getRuntimeContext().getState(HEADER);
            window = getRuntimeContext().getMapState(WINDOW);
        }

        @Override
        public void readKey(Long user, Context ctx, Collector<String> out) throws Exception {
            UserHeader h = header.value();
            if (h == null) {
                out.collect("");
                return;
            }
            List<long[]> clicks = new ArrayList<>();
            int entries = 0;
            for (Map.Entry<Integer, ClickEntry> ignored : window.entries()) {
                entries++;
            }
            if (entries != h.count) {
                throw new IllegalStateException("user " + user + ": " + entries + " window entries, header says " + h.count);
            }
            for (int i = 0; i < h.count; i++) {
                ClickEntry e = window.get(Math.floorMod(h.next - h.count + i, h.capacity));
                if (e == null || e.state.length != h.lastState.length) {
                    throw new IllegalStateException("user " + user + ": window slot " + i + " missing or of another H");
                }
                clicks.add(new long[] {e.itemId, e.categoryId});
            }
            out.collect(JSON.writeValueAsString(new StoredUser(user, h.modelFingerprint, h.capacity, h.totalClicks, h.count,
                    h.lastState.length, h.recentEventIds.length, h.expiryTimer, clicks)));
        }
    }

    // ---- scores ----

    /** Every request scored once, for its user, by the demo bundle, with all its user's clicks applied. */
    private static void assertRecorded(Map<String, ExpectedScore> scores, List<FixtureRequest> requests,
                                       Map<Long, Long> applied, ModelBundle bundle) {
        assertThat(scores.keySet()).containsExactlyInAnyOrderElementsOf(requests.stream().map(FixtureRequest::requestId).toList());
        for (FixtureRequest r : requests) {
            ExpectedScore s = scores.get(r.requestId());
            long n = applied.getOrDefault(r.userId(), 0L);
            assertThat(s.userId()).isEqualTo(r.userId());
            assertThat(s.modelFingerprint()).isEqualTo(bundle.fingerprint());
            assertThat(s.clicksApplied()).as("%s clicks applied", r.requestId()).isEqualTo(n);
            assertThat(s.historyLength()).as("%s history length", r.requestId()).isEqualTo((int) Math.min(n, T));
            assertThat(s.scores()).extracting(ExpectedCtr::itemId)
                    .containsExactlyElementsOf(r.candidates().stream().map(FixtureCandidate::itemId).toList());
        }
    }

    /**
     * Equal scores, request by request: every field, and the CTRs bit for bit ({@code exact}) or within
     * {@link Reproducibility#TOLERANCE}; the message lists every difference.
     */
    private static void assertSameScores(Map<String, ExpectedScore> actual, Map<String, ExpectedScore> expected, boolean exact,
                                         String what) {
        assertThat(actual.keySet()).as(what).containsExactlyInAnyOrderElementsOf(expected.keySet());
        List<String> differences = new ArrayList<>();
        for (ExpectedScore e : expected.values()) {
            ExpectedScore a = actual.get(e.requestId());
            if (exact ? !a.equals(e) : !withinTolerance(a, e)) {
                differences.add(e.requestId() + ": expected " + e + ", got " + a + " (" + ulps(e, a) + ")");
            }
        }
        assertThat(differences).as("%s: scores that differ from the recorded ones", what).isEmpty();
    }

    private static boolean withinTolerance(ExpectedScore a, ExpectedScore e) {
        if (!withoutCtrs(a).equals(withoutCtrs(e))) {
            return false;
        }
        for (int i = 0; i < e.scores().size(); i++) {
            if (Math.abs(a.scores().get(i).ctr() - e.scores().get(i).ctr()) > Reproducibility.TOLERANCE) {
                return false;
            }
        }
        return true;
    }

    /** The score with only the candidates' item ids of its CTRs. */
    private static ExpectedScore withoutCtrs(ExpectedScore s) {
        return new ExpectedScore(s.requestId(), s.userId(), s.modelVersion(), s.modelFingerprint(), s.historyLength(),
                s.clicksApplied(), s.scores().stream().map(c -> new ExpectedCtr(c.itemId(), 0, "")).toList());
    }

    private static String ulps(ExpectedScore e, ExpectedScore a) {
        if (e.scores().size() != a.scores().size()) {
            return "candidates differ";
        }
        StringBuilder b = new StringBuilder("ulps:");
        for (int i = 0; i < e.scores().size(); i++) {
            float x = e.scores().get(i).ctr();
            float y = a.scores().get(i).ctr();
            b.append(' ').append(Math.abs(x - y) / Math.ulp(x));
        }
        return b.toString();
    }

    private static ExpectedScore recorded(CtrScore s) {
        List<ExpectedCtr> ctrs = new ArrayList<>();
        for (CandidateScore c : s.getScores()) {
            ctrs.add(new ExpectedCtr(c.getItemId(), c.getCtr(), String.format("%08x", Float.floatToRawIntBits(c.getCtr()))));
        }
        return new ExpectedScore(s.getRequestId(), s.getUserId(), s.getModelVersion(), s.getModelFingerprint(),
                s.getHistoryLength(), s.getClicksApplied(), ctrs);
    }

    /**
     * Scores read from a file by request id, each CTR taken from its exact bits ({@code ctrBits}): the
     * decimal {@code ctr} is Java's shortest representation and reads back to the same float, but the
     * bits are what the fixture promises.
     */
    private static Map<String, ExpectedScore> byRequestId(List<ExpectedScore> scores) {
        Map<String, ExpectedScore> m = new LinkedHashMap<>();
        for (ExpectedScore s : scores) {
            List<ExpectedCtr> exact = s.scores().stream().map(c -> new ExpectedCtr(c.itemId(),
                    Float.intBitsToFloat(Integer.parseUnsignedInt(c.ctrBits(), 16)), c.ctrBits())).toList();
            ExpectedScore e = new ExpectedScore(s.requestId(), s.userId(), s.modelVersion(), s.modelFingerprint(),
                    s.historyLength(), s.clicksApplied(), exact);
            assertThat(m.put(s.requestId(), e)).as("request id %s once", s.requestId()).isNull();
        }
        return m;
    }

    /**
     * Runs the model core on the demo bundle until C2 has compiled its kernels, before the job scores
     * anything. Why: the JDK's vector {@code EXP} (the kernels' sigmoid and tanh) is SVML code once
     * compiled and {@code StrictMath} before, and the two differ in the last bit ({@code
     * KernelReproducibilityTest}). The job's own traffic here is too small to get the kernels compiled
     * before the first requests, so without this the recorded scores would mix both and a restore in
     * another JVM could not reproduce them bit for bit; with it, both runs score with compiled kernels.
     */
    static void warmUpKernels(ModelBundle bundle) {
        long t0 = System.nanoTime();
        DienScorer scorer = DienModel.from(bundle).newScorer();
        long[] items = bundle.longs("vocab.item");
        long[] categories = bundle.longs("vocab.category");
        long[] candidateItems = Arrays.copyOf(items, 10);
        long[] candidateCategories = Arrays.copyOf(categories, 10);
        float[] ctr = new float[10];
        float[] h = new float[bundle.config().hiddenDim()];
        InterestState s = scorer.newState();
        SplittableRandom rnd = new SplittableRandom(1);
        double sink = 0;
        for (int i = 0; i < WARM_UP_REPETITIONS; i++) {
            s.append(scorer, items[rnd.nextInt(items.length)], categories[rnd.nextInt(categories.length)]);
            scorer.advance(h, items[rnd.nextInt(items.length)], categories[rnd.nextInt(categories.length)]);
            s.score(scorer, 1_000L, candidateItems, candidateCategories, 5 + i % 6, Semantics.STREAMING, ctr);
            sink += ctr[0] + h[0];
        }
        LOG.info("Kernels warmed up in {} ms ({})", (System.nanoTime() - t0) / 1_000_000, sink);
    }

    // ---- files ----

    /** A JSON array, one element per line: small, and a diff shows which element changed. */
    private static void writeJson(Path file, List<?> elements) throws IOException {
        StringBuilder b = new StringBuilder("[\n");
        for (int i = 0; i < elements.size(); i++) {
            b.append("  ").append(JSON.writeValueAsString(elements.get(i))).append(i + 1 < elements.size() ? ",\n" : "\n");
        }
        Files.writeString(file, b.append("]\n"));
    }

    private static <T> T readJson(Path file, TypeReference<T> type) throws IOException {
        return JSON.readValue(file.toFile(), type);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    // ---- Kafka ----

    /** A fresh broker with a run's own topics (2 partitions each, as the job's tests use). */
    private static final class Broker implements AutoCloseable {
        private final EmbeddedKafkaCluster kafka;
        private final Topics topics;

        private Broker(EmbeddedKafkaCluster kafka, Topics topics) {
            this.kafka = kafka;
            this.topics = topics;
        }

        static Broker start(Topics topics) throws Exception {
            EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.start(null);
            kafka.createTopics(2, topics.all());
            return new Broker(kafka, topics);
        }

        /** The job with its settings for this broker and topics, from {@code savepoint} (claimed) when not null. */
        JobClient startJob(String savepoint, Path checkpoints, String name, Consumer<Configuration> settings) throws Exception {
            return KafkaJobFixture.startJob(kafka.bootstrapServers(), BUNDLE.toString(), savepoint, checkpoints, name, conf -> {
                conf.set(DienJobOptions.CLICKS_TOPIC, topics.clicks());
                conf.set(DienJobOptions.REQUESTS_TOPIC, topics.requests());
                conf.set(DienJobOptions.SCORES_TOPIC, topics.scores());
                conf.set(DienJobOptions.DEAD_LETTER_TOPIC, topics.deadLetters());
                settings.accept(conf);
            }, DienScoringJob::forKafka);
        }

        void sendClicks(List<UserClicks> users) {
            try (KafkaProducer<byte[], byte[]> producer = producer()) {
                for (UserClicks u : users) {
                    for (FixtureClick c : u.clicks()) {
                        producer.send(new ProducerRecord<>(topics.clicks(), UserKeys.key(u.userId()), AvroMessages.encode(
                                new ClickEvent(c.eventId(), u.userId(), c.itemId(), c.categoryId(), Instant.now()))));
                    }
                }
                producer.flush();
            }
        }

        /**
         * Sends the requests and returns their scores. A score must show its user's {@code applied}
         * clicks; with {@code resend}, a request scored before they were all applied is sent again
         * (same id: a request changes no state that scoring reads), else such a score fails.
         */
        Map<String, ExpectedScore> score(List<FixtureRequest> requests, Map<Long, Long> applied, boolean resend) throws Exception {
            Map<String, FixtureRequest> pending = new LinkedHashMap<>();
            requests.forEach(r -> pending.put(r.requestId(), r));
            Map<String, ExpectedScore> done = new HashMap<>();
            long deadline = System.nanoTime() + SCORE_TIMEOUT.toNanos();
            try (KafkaProducer<byte[], byte[]> producer = producer(); KafkaConsumer<byte[], byte[]> consumer = consumer()) {
                consumer.subscribe(List.of(topics.scores()));
                send(producer, requests);
                long resendAt = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                while (!pending.isEmpty()) {
                    assertThat(System.nanoTime()).as("scores still missing: %s", pending.keySet()).isLessThan(deadline);
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        CtrScore s = AvroMessages.decoder(CtrScore.class).decode(r.value());
                        FixtureRequest request = pending.get(s.getRequestId());
                        if (request == null) {
                            continue; // an earlier phase's, or a stale duplicate of one already done
                        }
                        long want = applied.getOrDefault(request.userId(), 0L);
                        if (s.getClicksApplied() == want) {
                            done.put(s.getRequestId(), recorded(s));
                            pending.remove(s.getRequestId());
                        } else {
                            assertThat(resend).as("%s scored with %d clicks applied, not %d", s.getRequestId(),
                                    s.getClicksApplied(), want).isTrue();
                        }
                    }
                    if (resend && System.nanoTime() > resendAt && !pending.isEmpty()) {
                        send(producer, List.copyOf(pending.values()));
                        resendAt = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                    }
                }
            }
            return done;
        }

        private void send(KafkaProducer<byte[], byte[]> producer, List<FixtureRequest> requests) {
            for (FixtureRequest r : requests) {
                List<Candidate> c = r.candidates().stream().map(x -> new Candidate(x.itemId(), x.categoryId())).toList();
                producer.send(new ProducerRecord<>(topics.requests(), UserKeys.key(r.userId()), AvroMessages.encode(
                        new AdRequest(r.requestId(), r.userId(), Instant.now(), c))));
            }
            producer.flush();
        }

        /** An idempotent producer: a retried send is not a duplicate click. */
        private KafkaProducer<byte[], byte[]> producer() {
            Properties p = kafka.clientProperties();
            p.put("key.serializer", ByteArraySerializer.class.getName());
            p.put("value.serializer", ByteArraySerializer.class.getName());
            p.put("enable.idempotence", "true");
            return new KafkaProducer<>(p);
        }

        private KafkaConsumer<byte[], byte[]> consumer() {
            Properties p = kafka.clientProperties();
            p.put("group.id", "legacy-fixture-" + System.nanoTime());
            p.put("auto.offset.reset", "earliest");
            p.put("key.deserializer", ByteArrayDeserializer.class.getName());
            p.put("value.deserializer", ByteArrayDeserializer.class.getName());
            return new KafkaConsumer<>(p);
        }

        @Override
        public void close() throws Exception {
            kafka.close();
        }
    }
}

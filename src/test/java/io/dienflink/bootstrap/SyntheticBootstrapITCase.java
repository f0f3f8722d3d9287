package io.dienflink.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.job.DedupPolicy;
import io.dienflink.job.DienJobOptions;
import io.dienflink.job.DienScoringJob;
import io.dienflink.job.InterestScorer;
import io.dienflink.job.SavepointMigration;
import io.dienflink.job.StoredUser;
import io.dienflink.job.UserSnapshot;
import io.dienflink.job.UserStore;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.traffic.SyntheticWorld;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bootstrap}'s savepoint holds every user of the population exactly as the job's own click
 * path leaves it: the test builds each user again through {@link UserStore#click} with the copying
 * {@link UserStore.Held} slot (as keyed state hands out copies), and the model core's streaming state
 * over the same clicks, and compares them with what the savepoint stores.
 */
class SyntheticBootstrapITCase {
    private static final Path MODEL = Path.of("bundles", "demo").toAbsolutePath();
    private static final long NOW = 1_800_000_123_456L;

    @TempDir
    Path tmp;

    @Test
    void everyUserIsStoredAsTheJobsClickPathLeavesIt() throws Exception {
        Population population = new Population(600, 11, 45); // T = 30: the window wrapped 15 times
        String output = tmp.resolve("savepoint").toUri().toString();
        SyntheticBootstrap.Result r = SyntheticBootstrap.write(new SyntheticBootstrap.Settings(population, MODEL, output,
                2, SyntheticBootstrap.defaultMaxParallelism(2), NOW));
        assertThat(r.users()).isEqualTo(600);
        assertThat(r.savepointBytes()).isPositive();
        assertThat(SyntheticBootstrap.defaultMaxParallelism(2)).as("Flink's default for a job at parallelism 2").isEqualTo(128);

        Map<Long, StoredUser> stored = read(output);
        assertThat(stored).hasSize(600);
        Map<Long, List<Long>> timers = timers(output);
        DienModel model = DienModel.load(MODEL);
        DienScorer scorer = model.newScorer();
        SyntheticWorld world = population.world();
        long inactivity = DienJobOptions.INACTIVITY_EXPIRY.defaultValue().toMillis();
        long bucket = 3_600_000L; // 14 days / 24, capped at an hour: InterestScorer's activity bucket
        for (int u = 0; u < 600; u++) {
            long id = SyntheticWorld.id(u);
            SyntheticWorld.Click[] clicks = population.history(world, u);
            UserStore.Held held = new UserStore.Held();
            UserStore store = new UserStore(scorer, held, null, new DedupPolicy(64, InterestScorer.DEFAULT_DEDUP_HORIZON_MS),
                    null, new UserStore.Events() {});
            InterestState streaming = scorer.newState();
            for (int i = 0; i < clicks.length; i++) {
                store.click(id, 1_000 + i, clicks[i].itemId(), clicks[i].categoryId(), NOW, UserStore.UNTRACKED);
                streaming.append(scorer, clicks[i].itemId(), clicks[i].categoryId());
            }
            StoredUser expected = held.get();
            UserStore.settle(expected, NOW, inactivity);
            StoredUser got = stored.get(id);
            // the ids and counters exactly; the extractor states within the job's own bound for "the same
            // history" (UserStore.REPLAY_TOLERANCE): the kernels' summation order follows the JIT's choice of
            // vector or scalar code, and 45 recurrent steps carry an ulp's difference on
            assertThat(got.modelFingerprint()).isEqualTo(expected.modelFingerprint());
            for (int t = 0; t < expected.windowLength(); t++) {
                assertThat(got.itemAt(t)).as("user " + id + " click " + t).isEqualTo(expected.itemAt(t));
                assertThat(got.categoryAt(t)).as("user " + id + " click " + t).isEqualTo(expected.categoryAt(t));
            }
            assertThat(got.first()).as("user " + id).containsExactly(expected.first(), within(UserStore.REPLAY_TOLERANCE));
            assertThat(got.newest()).as("user " + id).containsExactly(expected.newest(), within(UserStore.REPLAY_TOLERANCE));
            assertThat(got.totalClicks()).isEqualTo(45);
            assertThat(got.windowLength()).isEqualTo(30);
            assertThat(got.itemAt(29)).isEqualTo(clicks[44].itemId());
            assertThat(got.rememberedEvents()).as("bootstrapped clicks did not come through Kafka").isZero();
            assertThat(got.lastActive()).isEqualTo(NOW - NOW % bucket);
            assertThat(got.expiryTimer()).isEqualTo(got.lastActive() + inactivity + bucket);
            // registered where the scoring operator's timers live, so the restored job expires the user
            assertThat(timers.get(id)).as("timers of user " + id).containsExactly(got.expiryTimer());
            assertThat(streaming.newestStateDifference(got.newest())).as("streaming state of user " + id)
                    .isLessThanOrEqualTo(UserStore.REPLAY_TOLERANCE);
        }
    }

    /** The users of a savepoint of the scoring operator, by id. */
    private static Map<Long, StoredUser> read(String savepoint) throws Exception {
        StreamExecutionEnvironment env = SavepointMigration.environment(1);
        Map<Long, StoredUser> users = new HashMap<>();
        try (var it = SavepointReader.read(env, savepoint, new EmbeddedRocksDBStateBackend(true))
                .readKeyedState(OperatorIdentifier.forUid(DienScoringJob.UID_SCORER), new Stored(), Types.LONG,
                        TypeInformation.of(UserSnapshot.class))
                .executeAndCollect("read bootstrapped savepoint")) {
            it.forEachRemaining(s -> users.putIfAbsent(s.userId, s.user));
        }
        return users;
    }

    /** Each user's processing-time timers in the scoring operator's timer service, as a restore sees them. */
    private static Map<Long, List<Long>> timers(String savepoint) throws Exception {
        StreamExecutionEnvironment env = SavepointMigration.environment(1);
        Map<Long, List<Long>> timers = new HashMap<>();
        try (var it = SavepointReader.read(env, savepoint, new EmbeddedRocksDBStateBackend(true))
                .readKeyedState(OperatorIdentifier.forUid(DienScoringJob.UID_SCORER), new Timers(), Types.LONG,
                        Types.TUPLE(Types.LONG, Types.LONG))
                .executeAndCollect("read bootstrapped timers")) {
            it.forEachRemaining(t -> {
                List<Long> of = timers.computeIfAbsent(t.f0, u -> new ArrayList<>());
                if (t.f1 != Long.MIN_VALUE) {
                    of.add(t.f1);
                }
            });
        }
        return timers;
    }

    private static final class Timers extends KeyedStateReaderFunction<Long, Tuple2<Long, Long>> {
        @Override
        public void open(OpenContext context) {
            getRuntimeContext().getState(InterestScorer.userDescriptor()); // the reader iterates the keys of its states
        }

        @Override
        public void readKey(Long user, Context ctx, Collector<Tuple2<Long, Long>> out) throws Exception {
            for (long t : ctx.registeredProcessingTimeTimers()) {
                out.collect(Tuple2.of(user, t));
            }
            out.collect(Tuple2.of(user, Long.MIN_VALUE)); // every key emits: a key with no output breaks the source
        }
    }

    private static final class Stored extends KeyedStateReaderFunction<Long, UserSnapshot> {
        private transient ValueState<StoredUser> state;

        @Override
        public void open(OpenContext context) {
            state = getRuntimeContext().getState(InterestScorer.userDescriptor());
        }

        @Override
        public void readKey(Long user, Context ctx, Collector<UserSnapshot> out) throws Exception {
            out.collect(new UserSnapshot(user, state.value())); // every key of a bootstrap has a user
        }
    }
}

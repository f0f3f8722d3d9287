package io.dienflink.job;

import io.dienflink.model.DienScorer;
import io.dienflink.model.ModelBundle;
import java.nio.file.Path;
import java.util.function.LongConsumer;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.runtime.checkpoint.InflightDataRescalingDescriptor;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.StateBootstrapTransformation;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rewrites a savepoint of the scoring job with Flink's State Processor API: every user in the
 * current layout ({@link StoredUser}; users of the earlier header-and-entries layout are converted,
 * exactly), rebuilt under the given bundle when another model built it (as the job would do lazily
 * on the user's next event, at the cost of one request), and a new savepoint written with every
 * other operator's state (Kafka offsets, sinks) kept as it was.
 *
 * <p>An upgrade does not need it: the job rebuilds a user of another model on its next event by
 * replaying its window (T cell steps, what a request costs anyway). It converts a savepoint of the
 * earlier layout ahead of time, and spares the restarted job those rebuilds.
 *
 * <p>A user whose stored state cannot be read is reset as the job resets it ({@link
 * CorruptUserException}): left out of the new savepoint, logged at WARN with its key and counted in
 * {@link Result#reset()}, so that one bad key costs that user's history and not the migration of
 * everybody else. The job then sees the user as new on its next event.
 */
public final class SavepointMigration {
    private static final Logger LOG = LoggerFactory.getLogger(SavepointMigration.class);
    private static final String USERS = "users";
    private static final String REBUILT = "rebuilt";
    private static final String RESET = "reset";
    private static final String REPEATED_KEYS = "repeatedKeys";

    private SavepointMigration() {}

    /**
     * What a migration did.
     *
     * @param users users written to the new savepoint
     * @param rebuilt of those, users whose states were recomputed under the new model
     * @param reset users whose stored state could not be read: left out (each logged at WARN with its key)
     * @param repeatedKeys keys the State Processor API handed to the reader again (skipped)
     */
    public record Result(long users, long rebuilt, long reset, long repeatedKeys, long millis) {
        public double usersPerSecond() {
            return users / Math.max(1e-3, millis / 1000.0);
        }
    }

    /**
     * @param savepoint the savepoint (or retained checkpoint) directory to read
     * @param bundlePath the new model bundle; validated before anything is read
     * @param output where to write the new savepoint (must not exist)
     * @param parallelism parallelism of the migration job
     */
    public static Result migrate(String savepoint, String bundlePath, String output, int parallelism) throws Exception {
        ModelBundle bundle = ModelBundle.load(Path.of(bundlePath));
        long t0 = System.nanoTime();
        StreamExecutionEnvironment env = environment(parallelism);
        EmbeddedRocksDBStateBackend backend = new EmbeddedRocksDBStateBackend(true);
        OperatorIdentifier scorer = OperatorIdentifier.forUid(DienScoringJob.UID_SCORER);
        int maxParallelism = maxParallelism(savepoint, scorer);
        DataStream<UserSnapshot> users = SavepointReader.read(env, savepoint, backend)
                .readKeyedState(scorer, new UserReader(bundlePath, bundle.fingerprint(), maxParallelism), Types.LONG,
                        TypeInformation.of(UserSnapshot.class));
        StateBootstrapTransformation<UserSnapshot> rewritten = OperatorTransformation
                .bootstrapWith(users.filter(u -> u.user != null).returns(UserSnapshot.class))
                .keyBy(u -> u.userId, Types.LONG)
                .transform(new UserWriter());
        SavepointWriter.fromExistingSavepoint(env, savepoint, backend)
                .removeOperator(scorer)
                .withOperator(scorer, rewritten)
                .write(output);
        JobExecutionResult result = env.execute("dien-flink migrate to " + bundle.config().modelVersion());
        Long n = result.getAccumulatorResult(USERS);
        Long r = result.getAccumulatorResult(REBUILT);
        Long reset = result.getAccumulatorResult(RESET);
        Long repeated = result.getAccumulatorResult(REPEATED_KEYS);
        Result out = new Result(n == null ? 0 : n, r == null ? 0 : r, reset == null ? 0 : reset,
                repeated == null ? 0 : repeated, (System.nanoTime() - t0) / 1_000_000);
        LOG.info("Migrated {} users ({} rebuilt, {} unreadable and reset, {} repeated keys skipped) to {} in {} ms",
                out.users(), out.rebuilt(), out.reset(), out.repeatedKeys(), bundle.fingerprint(), out.millis());
        return out;
    }

    /** The max parallelism (number of key groups) of an operator in a savepoint; 0 if it is not there. */
    static int maxParallelism(String savepoint, OperatorIdentifier operator) throws java.io.IOException {
        // SavepointLoader is the State Processor API's own (internal) reader of the metadata file
        return SavepointLoader.loadSavepointMetadata(savepoint).getOperatorStates().stream()
                .filter(s -> s.getOperatorID().equals(operator.getOperatorId()))
                .mapToInt(OperatorState::getMaxParallelism).findFirst().orElse(0);
    }

    /**
     * An environment for State Processor API jobs. The writer ships existing operators' state
     * through Kryo, whose generated accessors cannot instantiate Flink's private rescaling
     * descriptors on Java 17 (IllegalAccessError); Java serialization of those objects works.
     * Savepoints it writes are compressed, as the job's are ({@link DienScoringJob#configure}): the
     * next reader restores them several times faster.
     *
     * <p>Streaming execution, not batch: under batch execution Flink 2.2's adaptive batch scheduler
     * may give each keyed writer subtask a range of key groups balanced by bytes ("Optimized the
     * balanced data distribution" in its log), which need not be the range the State Processor API's
     * writer owns; a writer handed a key outside its range fails in the writer's own thread, whose
     * error the State Processor API does not pass on, and the job hangs for ever with the other subtask
     * finished. {@code migrate} of 25,000 users of release 619fd5e's layout at parallelism 2 hung so,
     * as {@code bootstrap} had at a million users. Streaming execution partitions by Flink's key-group
     * assignment, which is the writer's.
     */
    public static StreamExecutionEnvironment environment(int parallelism) {
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.SNAPSHOT_COMPRESSION, true);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        SerializerConfigImpl serializers = (SerializerConfigImpl) env.getConfig().getSerializerConfig();
        @SuppressWarnings("unchecked")
        Class<? extends com.esotericsoftware.kryo.Serializer<?>> java =
                (Class<? extends com.esotericsoftware.kryo.Serializer<?>>) (Class<?>) JavaSerializer.class;
        serializers.addDefaultKryoSerializer(OperatorState.class, java);
        serializers.addDefaultKryoSerializer(InflightDataRescalingDescriptor.class, java);
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.setParallelism(parallelism);
        return env;
    }

    /**
     * Reads each user once, rebuilt under the bundle's model unless it was already built by it; a user
     * whose stored state cannot be read is not emitted (reset), logged and counted.
     *
     * <p>The State Processor API may hand a key to {@link #readKey} more than once: {@link SeenKeys}
     * skips the repeats with the keys of one key group on the heap.
     */
    static final class UserReader extends KeyedStateReaderFunction<Long, UserSnapshot> {
        private final String bundlePath;
        private final String fingerprint;
        /** Key groups of the savepoint's operator; 0: unknown, keep every key. */
        private final int maxParallelism;
        private transient UserStore store;
        private transient LongCounter users;
        private transient LongCounter rebuilt;
        private transient LongCounter reset;
        private transient LongCounter repeatedKeys;
        private transient SeenKeys seen;

        UserReader(String bundlePath, String fingerprint, int maxParallelism) {
            this.bundlePath = bundlePath;
            this.fingerprint = fingerprint;
            this.maxParallelism = maxParallelism;
        }

        @Override
        public void open(OpenContext context) {
            // one copy of the weights per TaskManager, checked against the bundle validated at submission
            DienScorer scorer = SharedModels.get(bundlePath, fingerprint, false).newScorer();
            store = new UserStore(scorer, UserStore.slot(getRuntimeContext().getState(InterestScorer.userDescriptor())),
                    UserStore.legacySlot(getRuntimeContext().getState(InterestScorer.headerDescriptor()),
                            getRuntimeContext().getMapState(InterestScorer.windowDescriptor())),
                    new DedupPolicy(1, 1), null, new UserStore.Events() {});
            users = getRuntimeContext().getLongCounter(USERS);
            rebuilt = getRuntimeContext().getLongCounter(REBUILT);
            reset = getRuntimeContext().getLongCounter(RESET);
            repeatedKeys = getRuntimeContext().getLongCounter(REPEATED_KEYS);
            // open() runs once per input split (a key group range): the key group order is checked per split
            seen = new SeenKeys(maxParallelism);
        }

        @Override
        public void close() {
            if (seen != null) {
                LOG.info("Read split: at most {} user ids held to skip repeated keys (max parallelism {})", seen.largest(),
                        maxParallelism);
            }
        }

        @Override
        public void readKey(Long user, Context ctx, Collector<UserSnapshot> out) throws Exception {
            // Before reading: a repeat's first reading emitted the user, or reset it, already.
            if (!seen.firstSight(user)) {
                repeatedKeys.add(1);
                out.collect(UserSnapshot.skipped(user));
                return;
            }
            UserSnapshot migrated;
            try {
                migrated = migrate(user);
            } catch (RuntimeException e) {
                // The job's checks and the job's reaction (InterestScorer.resetIfCorrupt): the same bytes
                // would fail every attempt, and one bad key must not cost everybody else's migration.
                if (!CorruptUserException.isCorruption(e)) {
                    throw e;
                }
                LOG.warn("User {}: stored state cannot be read and is reset, left out of the migrated savepoint ({})",
                        user, CorruptUserException.rootMessage(e));
                reset.add(1);
                out.collect(UserSnapshot.skipped(user));
                return;
            }
            if (migrated.user != null) {
                users.add(1);
            }
            out.collect(migrated);
        }

        /** The user as the new savepoint stores it, or a skipped placeholder when it has no state. */
        private UserSnapshot migrate(long user) throws Exception {
            StoredUser u = store.stored();
            if (u == null) {
                return UserSnapshot.skipped(user);
            }
            StoredUser current = store.underCurrentModel(u);
            if (current != u) {
                rebuilt.add(1);
            }
            return new UserSnapshot(user, current);
        }
    }

    /**
     * Stores {@code u} as the current key's user the way the scoring operator keeps it: the value in
     * {@code state} (over {@link InterestScorer#userDescriptor()}) and its expiry timer, if it has
     * one, registered as a processing-time timer with {@code processingTimer} (the operator's timer
     * service: "user-timers", no namespace), so that a user who never comes back still leaves.
     */
    public static void write(ValueState<StoredUser> state, LongConsumer processingTimer, StoredUser u)
            throws Exception {
        state.update(u);
        if (u.expiryTimer != 0) {
            processingTimer.accept(u.expiryTimer);
        }
    }

    /** Writes a user back as the scoring operator keeps it, with its expiry timer. */
    static final class UserWriter extends KeyedStateBootstrapFunction<Long, UserSnapshot> {
        private transient ValueState<StoredUser> state;

        @Override
        public void open(OpenContext context) {
            state = getRuntimeContext().getState(InterestScorer.userDescriptor());
        }

        @Override
        public void processElement(UserSnapshot u, Context ctx) throws Exception {
            write(state, ctx.timerService()::registerProcessingTimeTimer, u.user);
        }
    }
}

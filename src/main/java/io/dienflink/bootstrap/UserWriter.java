package io.dienflink.bootstrap;

import io.dienflink.job.InterestScorer;
import io.dienflink.job.SavepointMigration;
import io.dienflink.job.StoredUser;
import io.dienflink.traffic.SyntheticWorld;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.api.output.SnapshotUtils;
import org.apache.flink.state.api.output.TaggedOperatorSubtaskState;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The State Processor API writer of bootstrapped users: each input record is a batch of user indices
 * of one key group (keyed by its first user, so it reaches the subtask that owns them all), and each
 * user is built ({@link UserBuilder}) and stored under its own key as the scoring operator keeps it
 * ({@link SavepointMigration#write}: the value and its expiry timer, in the timer service the
 * operator's timers live in). At the end of the input it snapshots its state into the savepoint, as
 * the State Processor API's own keyed writer does.
 *
 * <p>Why not that writer ({@code KeyedStateBootstrapFunction}, one record per key): the State
 * Processor API hands each record from the task's thread to the writer's own thread through a queue
 * of 16, and one record per user made the two threads wake each other once per user: at a million
 * users about a million context switches per writer, a tenth of the writer's time lost to them and
 * to the caches they cost. Batches of {@link InKeyOrder#BATCH} users make that a few thousand.
 */
final class UserWriter extends AbstractStreamOperator<TaggedOperatorSubtaskState>
        implements OneInputStreamOperator<long[], TaggedOperatorSubtaskState>, BoundedOneInput {
    /** The scoring operator's timer service (KeyedCoProcessOperator's, which InterestScorer runs in). */
    private static final String TIMERS = "user-timers";

    private final Population population;
    private final String modelPath;
    private final String fingerprint;
    private final long now;
    private final long inactivityMs;
    private final long timestamp;
    private final Path savepointPath;
    private transient UserBuilder builder;
    private transient ValueState<StoredUser> state;
    private transient InternalTimerService<VoidNamespace> timers;

    UserWriter(Population population, String modelPath, String fingerprint, long now, long inactivityMs, long timestamp,
               Path savepointPath) {
        this.population = population;
        this.modelPath = modelPath;
        this.fingerprint = fingerprint;
        this.now = now;
        this.inactivityMs = inactivityMs;
        this.timestamp = timestamp;
        this.savepointPath = savepointPath;
    }

    @Override
    public void open() throws Exception {
        super.open();
        builder = new UserBuilder(population, modelPath, fingerprint, now, inactivityMs);
        state = getRuntimeContext().getState(InterestScorer.userDescriptor());
        timers = getInternalTimerService(TIMERS, VoidNamespaceSerializer.INSTANCE, new NeverFired());
    }

    @Override
    public void processElement(StreamRecord<long[]> batch) throws Exception {
        for (long index : batch.getValue()) {
            setCurrentKey(SyntheticWorld.id((int) index));
            SavepointMigration.write(state, t -> timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, t),
                    builder.build((int) index));
        }
    }

    @Override
    public void endInput() throws Exception {
        // as the State Processor API's KeyedStateBootstrapOperator ends its input
        Configuration job = getContainingTask().getJobConfiguration();
        TaggedOperatorSubtaskState snapshot = SnapshotUtils.snapshot(0L, this,
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), timestamp,
                CheckpointingOptions.getCheckpointingMode(job), CheckpointingOptions.isUnalignedCheckpointEnabled(job),
                getContainingTask().getConfiguration().getConfiguration(), savepointPath);
        output.collect(new StreamRecord<>(snapshot));
    }

    /** Timers are only written here; none fires while the savepoint is built. */
    private static final class NeverFired implements Triggerable<Object, VoidNamespace> {
        @Override
        public void onEventTime(InternalTimer<Object, VoidNamespace> timer) {}

        @Override
        public void onProcessingTime(InternalTimer<Object, VoidNamespace> timer) {}
    }
}

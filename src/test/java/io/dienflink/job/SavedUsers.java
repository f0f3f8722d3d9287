package io.dienflink.job;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/** The users a savepoint of the job holds, as the scoring operator stored them. */
final class SavedUsers {
    private SavedUsers() {}

    /** Every user stored in the savepoint, once each: runs a small batch job and collects the result in this process. */
    static List<UserSnapshot> read(String savepoint) throws Exception {
        StreamExecutionEnvironment env = SavepointMigration.environment(1);
        DataStream<UserSnapshot> users = SavepointReader.read(env, savepoint, new EmbeddedRocksDBStateBackend(true))
                .readKeyedState(OperatorIdentifier.forUid(DienScoringJob.UID_SCORER), new AsStored(), Types.LONG,
                        TypeInformation.of(UserSnapshot.class));
        // the State Processor API may hand a key to the reader more than once: the first reading counts
        Map<Long, UserSnapshot> byUser = new LinkedHashMap<>();
        try (var it = users.executeAndCollect("dien-flink read savepoint")) {
            it.forEachRemaining(u -> {
                if (u.user != null) {
                    byUser.putIfAbsent(u.userId, u);
                }
            });
        }
        return new ArrayList<>(byUser.values());
    }

    /** Each user as stored. */
    private static final class AsStored extends KeyedStateReaderFunction<Long, UserSnapshot> {
        private transient ValueState<StoredUser> state;

        @Override
        public void open(OpenContext context) {
            state = getRuntimeContext().getState(InterestScorer.userDescriptor());
        }

        @Override
        public void readKey(Long user, Context ctx, Collector<UserSnapshot> out) throws Exception {
            StoredUser u = state.value();
            // a key without output would reach the collector as a null record, which breaks the job
            out.collect(u == null ? UserSnapshot.skipped(user) : new UserSnapshot(user, u));
        }
    }
}

package io.dienflink.job;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.traffic.SyntheticWorld;
import java.nio.file.Path;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Savepoints of the scoring operator holding synthetic users, written with the State Processor API
 * (the writer the migration uses) instead of by running the job: the input of
 * {@code bench.MigrateBenchmark}. It lives in this package because the stored form of a user is
 * package-private.
 */
public final class SyntheticSavepoints {
    private SyntheticSavepoints() {}

    /**
     * Writes a savepoint of users {@code 0 … users − 1}, each with 110 synthetic clicks appended under
     * the model at {@code modelPath} (a full window at T = 100), at parallelism 2 and max parallelism 128.
     *
     * @param compressed whether the savepoint is compressed, as the job writes its savepoints
     */
    public static void write(String modelPath, int users, boolean compressed, String output) throws Exception {
        StreamExecutionEnvironment env = SavepointMigration.environment(2);
        env.getConfig().setUseSnapshotCompression(compressed);
        SavepointWriter.newSavepoint(env, new EmbeddedRocksDBStateBackend(true), 128)
                .withOperator(OperatorIdentifier.forUid(DienScoringJob.UID_SCORER), OperatorTransformation
                        .bootstrapWith(env.fromSequence(0, users - 1).map(new SyntheticUser(modelPath, users))
                                .returns(TypeInformation.of(UserSnapshot.class)))
                        .keyBy(u -> u.userId, Types.LONG)
                        .transform(new SavepointMigration.UserWriter()))
                .write(output);
        env.execute("bootstrap savepoint");
    }

    /** User i with 110 synthetic clicks appended under the model (a full window of 100). */
    private static final class SyntheticUser extends RichMapFunction<Long, UserSnapshot> {
        private final String model;
        private final int users;
        private transient UserStore.Held held;
        private transient UserStore store;
        private transient SyntheticWorld world;

        SyntheticUser(String model, int users) {
            this.model = model;
            this.users = users;
        }

        @Override
        public void open(OpenContext ctx) {
            DienScorer scorer = DienModel.load(Path.of(model)).newScorer();
            held = new UserStore.Held();
            store = new UserStore(scorer, held, null, new DedupPolicy(64, InterestScorer.DEFAULT_DEDUP_HORIZON_MS), null,
                    new UserStore.Events() {});
            world = new SyntheticWorld(users, 50, 100, 3);
        }

        @Override
        public UserSnapshot map(Long user) throws Exception {
            int u = user.intValue();
            long id = SyntheticWorld.id(u);
            held.clear();
            for (int i = 0; i < 110; i++) { // through the job's own click path
                SyntheticWorld.Click c = world.click(u);
                store.click(id, id * 1_000_003L + i, c.itemId(), c.categoryId(), 0L, UserStore.UNTRACKED);
            }
            return new UserSnapshot(id, held.get());
        }
    }
}

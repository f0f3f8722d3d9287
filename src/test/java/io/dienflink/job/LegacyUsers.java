package io.dienflink.job;

import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Ring;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Users in the layout of releases before the compact one (a {@link UserHeader} value and one
 * {@link ClickEntry} map entry per click, keyed by ring slot), and savepoints holding them, written
 * with the State Processor API through the earlier layout's own descriptors: the input of the
 * conversion tests.
 */
final class LegacyUsers {
    private LegacyUsers() {}

    /** One user of the earlier layout: its header and its entries by ring slot. */
    public static final class LegacyUser {
        public long userId;
        public UserHeader header;
        public ClickEntry[] entries;

        public LegacyUser() {}

        LegacyUser(long userId, UserHeader header, ClickEntry[] entries) {
            this.userId = userId;
            this.header = header;
            this.entries = entries;
        }

        /** (item id, category id) pairs, oldest first, read through the ring as the earlier release did. */
        long[][] clicks() {
            long[][] out = new long[header.count][];
            for (int t = 0; t < header.count; t++) {
                ClickEntry e = entries[Ring.slot(header.capacity, header.count, header.next, t)];
                out[t] = new long[] {e.itemId, e.categoryId};
            }
            return out;
        }

        /** The stored state of the window's t-th click, oldest first. */
        float[] stateAt(int t) {
            return entries[Ring.slot(header.capacity, header.count, header.next, t)].state;
        }
    }

    /**
     * A user with {@code clicks} clicks appended under the scorer's model and stored as the earlier
     * release stored it: entries by ring slot (wrapped when the clicks outnumber T), the header's ring
     * of the last {@code dedup} event hashes filled with {@code eventHash(i)}.
     */
    static LegacyUser built(DienScorer scorer, long user, int clicks, long[] items, long[] cats, int dedup) {
        InterestState s = scorer.newState();
        int capacity = scorer.model().config().maxHistory();
        int hidden = scorer.model().config().hiddenDim();
        UserHeader h = UserHeader.fresh(scorer.model().fingerprint64(), capacity, hidden, dedup);
        ClickEntry[] entries = new ClickEntry[capacity];
        for (int i = 0; i < clicks; i++) {
            long item = items[(int) ((user * 7 + i * 3) % items.length)];
            long cat = cats[(int) ((user + i) % cats.length)];
            s.append(scorer, item, cat);
            h.remember(eventHash(user, i));
            h.lastState = s.stateAt(s.windowLength() - 1);
            entries[h.next] = new ClickEntry(item, cat, h.lastState.clone());
            h.next = Ring.after(h.next, capacity);
            h.count = Ring.grown(h.count, capacity);
            h.totalClicks++;
        }
        return new LegacyUser(user, h, entries);
    }

    /** The event hash of a built user's i-th click. */
    static long eventHash(long user, int i) {
        return user * 1_000_003L + i + 1;
    }

    /** A savepoint of the scoring operator holding exactly {@code users} in the earlier layout, at max parallelism 128. */
    static void write(List<LegacyUser> users, String output) throws Exception {
        StreamExecutionEnvironment env = SavepointMigration.environment(1);
        SavepointWriter.newSavepoint(env, new EmbeddedRocksDBStateBackend(true), 128)
                .withOperator(OperatorIdentifier.forUid(DienScoringJob.UID_SCORER), OperatorTransformation
                        .bootstrapWith(env.fromData(users, TypeInformation.of(LegacyUser.class)))
                        .keyBy(u -> u.userId, Types.LONG)
                        .transform(new Writer()))
                .write(output);
        env.execute("savepoint of the earlier layout");
    }

    /** Writes a user as the earlier release's scoring operator kept it, with its expiry timer. */
    private static final class Writer extends KeyedStateBootstrapFunction<Long, LegacyUser> {
        private transient ValueState<UserHeader> header;
        private transient MapState<Integer, ClickEntry> window;

        @Override
        public void open(OpenContext context) {
            header = getRuntimeContext().getState(InterestScorer.headerDescriptor());
            window = getRuntimeContext().getMapState(InterestScorer.windowDescriptor());
        }

        @Override
        public void processElement(LegacyUser u, Context ctx) throws Exception {
            header.update(u.header);
            for (int slot = 0; slot < u.entries.length; slot++) {
                if (u.entries[slot] != null) {
                    window.put(slot, u.entries[slot]);
                }
            }
            if (u.header.expiryTimer != 0) {
                ctx.timerService().registerProcessingTimeTimer(u.header.expiryTimer);
            }
        }
    }
}

package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.testutils.logging.LoggerAuditingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * {@code migrate} ({@link SavepointMigration}) on a savepoint that holds unreadable users among
 * good ones: it completes, resets each unreadable user as the job does (left out of the new
 * savepoint, logged at WARN with its key, counted in {@link SavepointMigration.Result#reset()}),
 * and migrates everybody else. The savepoint is written with the State Processor API, in the
 * stored form the scoring operator uses, so that the bad users can be made precisely.
 */
class SavepointMigrationITCase {
    private static final String MODEL_A = "official"; // T = 20, H = 36
    private static final String MODEL_B = "torch"; // T = 12, H = 16: every A user is rebuilt

    @RegisterExtension
    final LoggerAuditingExtension log = new LoggerAuditingExtension(SavepointMigration.class, Level.WARN);

    @TempDir
    Path tmp;

    @Test
    void unreadableUsersAreResetAndEverybodyElseIsMigrated() throws Exception {
        DienScorer a = DienModel.from(GoldenCases.bundle(MODEL_A)).newScorer();
        DienScorer b = DienModel.from(GoldenCases.bundle(MODEL_B)).newScorer();
        long[] items = GoldenCases.bundle(MODEL_A).longs("vocab.item");
        long[] cats = GoldenCases.bundle(MODEL_A).longs("vocab.category");
        Map<Long, UserSnapshot> good = new HashMap<>();
        List<UserSnapshot> stored = new ArrayList<>();
        for (long user = 1; user <= 6; user++) { // built by A, rebuilt under B by the migration
            UserSnapshot u = built(a, user, 3 + 4 * (int) user, items, cats);
            good.put(user, u);
            stored.add(u);
        }
        UserSnapshot builtByB = built(b, 9, 7, items, cats); // built by B already: copied as it is
        good.put(9L, builtByB);
        stored.add(builtByB);

        // User 7, built by A: its header claims a click the window does not hold (the rebuild's read fails).
        UserSnapshot missingClick = built(a, 7, 5, items, cats);
        missingClick.entries[4] = null;
        stored.add(missingClick);
        // User 8, built by B: a window entry outside the window its header describes (the copy's read fails).
        UserSnapshot strayEntry = built(b, 8, 3, items, cats);
        strayEntry.entries[10] = strayEntry.entries[0];
        stored.add(strayEntry);

        String input = tmp.resolve("input").toUri().toString();
        write(stored, input);
        String output = tmp.resolve("migrated").toUri().toString();
        SavepointMigration.Result r = SavepointMigration.migrate(input,
                GoldenCases.bundleDir(MODEL_B).toString(), output, 2);

        assertThat(r.users()).as("users migrated").isEqualTo(7);
        assertThat(r.rebuilt()).as("users rebuilt").isEqualTo(6);
        assertThat(r.reset()).as("unreadable users reset").isEqualTo(2);
        assertThat(log.getMessages()).as("WARN lines of the migration")
                .anySatisfy(m -> assertThat(m).startsWith("User 7: stored state cannot be read and is reset")
                        .contains("window entries stored"))
                .anySatisfy(m -> assertThat(m).startsWith("User 8: stored state cannot be read and is reset")
                        .contains("outside the stored window"));

        Map<Long, UserSnapshot> migrated = new HashMap<>();
        SavedUsers.read(output).forEach(u -> migrated.put(u.userId, u));
        assertThat(migrated.keySet()).as("users in the migrated savepoint").containsExactlyInAnyOrderElementsOf(good.keySet());
        long fingerprintB = b.model().fingerprint64();
        for (long user = 1; user <= 6; user++) {
            UserSnapshot was = good.get(user);
            UserSnapshot now = migrated.get(user);
            assertThat(now.header.modelFingerprint).isEqualTo(fingerprintB);
            assertThat(now.header.totalClicks).isEqualTo(was.header.totalClicks);
            long[][] clicks = StoredClicks.of(was);
            assertThat(StoredClicks.of(now)).as("user %d keeps its newest clicks", user)
                    .isDeepEqualTo(Arrays.copyOfRange(clicks, Math.max(0, clicks.length - 12), clicks.length));
        }
        assertThat(migrated.get(9L).header).isEqualTo(builtByB.header);
        assertThat(migrated.get(9L).entries).containsExactly(builtByB.entries);
    }

    /** A user with {@code clicks} clicks appended under the scorer's model, laid out from slot 0 as a rebuild leaves it. */
    private static UserSnapshot built(DienScorer scorer, long user, int clicks, long[] items, long[] cats) {
        InterestState s = scorer.newState();
        for (int i = 0; i < clicks; i++) {
            s.append(scorer, items[(int) ((user * 7 + i * 3) % items.length)], cats[(int) ((user + i) % cats.length)]);
        }
        int hidden = scorer.model().config().hiddenDim();
        UserHeader fresh = UserHeader.fresh(scorer.model().fingerprint64(), s.capacity(), hidden, 8);
        UserWindows.Rebuilt r = new UserWindows.Rebuilt(UserWindows.headerOf(fresh, s, hidden), s);
        return new UserSnapshot(user, r.header(), r.entries());
    }

    /** A savepoint of the scoring operator holding exactly {@code users}, as {@link SyntheticSavepoints} writes one. */
    private static void write(List<UserSnapshot> users, String output) throws Exception {
        StreamExecutionEnvironment env = SavepointMigration.environment(1);
        SavepointWriter.newSavepoint(env, new EmbeddedRocksDBStateBackend(true), 128)
                .withOperator(OperatorIdentifier.forUid(DienScoringJob.UID_SCORER), OperatorTransformation
                        .bootstrapWith(env.fromData(users, TypeInformation.of(UserSnapshot.class)))
                        .keyBy(u -> u.userId, Types.LONG)
                        .transform(new SavepointMigration.UserWriter()))
                .write(output);
        env.execute("savepoint with unreadable users");
    }
}

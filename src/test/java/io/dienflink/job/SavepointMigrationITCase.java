package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.ModelBundle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.testutils.logging.LoggerAuditingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * {@code migrate} ({@link SavepointMigration}) on a savepoint that holds unreadable users among
 * good ones: it completes, resets each unreadable user as the job does (left out of the new
 * savepoint, logged at WARN with its key, counted in {@link SavepointMigration.Result#reset()}),
 * and converts and migrates everybody else. The savepoint is written with the State Processor API
 * in the earlier release's layout ({@link LegacyUsers}), so that the bad users can be made precisely.
 */
class SavepointMigrationITCase {
    private static final String MODEL_A = "official"; // T = 20, H = 36
    private static final String MODEL_B = "torch"; // T = 12, H = 16: every A user is rebuilt
    private static final Path DEMO = Path.of("bundles", "demo");
    private static final Path UNTRAINED = Path.of("bundles", "demo-untrained");

    @RegisterExtension
    final LoggerAuditingExtension log = new LoggerAuditingExtension(SavepointMigration.class, Level.WARN);

    @TempDir
    Path tmp;

    @Test
    void unreadableUsersAreResetAndEverybodyElseIsConvertedAndMigrated() throws Exception {
        DienScorer a = DienModel.from(GoldenCases.bundle(MODEL_A)).newScorer();
        DienScorer b = DienModel.from(GoldenCases.bundle(MODEL_B)).newScorer();
        long[] items = GoldenCases.bundle(MODEL_A).longs("vocab.item");
        long[] cats = GoldenCases.bundle(MODEL_A).longs("vocab.category");
        Map<Long, LegacyUsers.LegacyUser> good = new HashMap<>();
        List<LegacyUsers.LegacyUser> stored = new ArrayList<>();
        for (long user = 1; user <= 6; user++) { // built by A, rebuilt under B by the migration
            LegacyUsers.LegacyUser u = LegacyUsers.built(a, user, 3 + 4 * (int) user, items, cats, 8);
            good.put(user, u);
            stored.add(u);
        }
        LegacyUsers.LegacyUser builtByB = LegacyUsers.built(b, 9, 17, items, cats, 8); // built by B: only converted
        good.put(9L, builtByB);
        stored.add(builtByB);

        // User 7, built by A: its header claims a click the window does not hold.
        LegacyUsers.LegacyUser missingClick = LegacyUsers.built(a, 7, 5, items, cats, 8);
        missingClick.entries[4] = null;
        stored.add(missingClick);
        // User 8, built by B: a window entry outside the window its header describes.
        LegacyUsers.LegacyUser strayEntry = LegacyUsers.built(b, 8, 3, items, cats, 8);
        strayEntry.entries[10] = strayEntry.entries[0];
        stored.add(strayEntry);

        String input = tmp.resolve("input").toUri().toString();
        LegacyUsers.write(stored, input);
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
            LegacyUsers.LegacyUser was = good.get(user);
            StoredUser now = migrated.get(user).user;
            assertThat(now.modelFingerprint()).isEqualTo(fingerprintB);
            assertThat(now.totalClicks()).isEqualTo(was.header.totalClicks);
            long[][] clicks = was.clicks();
            assertThat(StoredClicks.of(now)).as("user %d keeps its newest clicks", user)
                    .isDeepEqualTo(Arrays.copyOfRange(clicks, Math.max(0, clicks.length - 12), clicks.length));
        }
        // converted exactly: the same clicks, the oldest click's stored state, the newest state, the remembered events
        StoredUser nine = migrated.get(9L).user;
        assertThat(nine.modelFingerprint()).isEqualTo(fingerprintB);
        assertThat(nine.totalClicks()).isEqualTo(17);
        assertThat(StoredClicks.of(nine)).isDeepEqualTo(builtByB.clicks());
        assertThat(nine.first).containsExactly(builtByB.stateAt(0));
        assertThat(nine.newest()).containsExactly(builtByB.header.lastState);
        for (int i = 17 - 8; i < 17; i++) {
            assertThat(nine.remembers(LegacyUsers.eventHash(9, i))).as("event %d remembered", i).isTrue();
        }
        assertThat(nine.remembers(LegacyUsers.eventHash(9, 17 - 9))).as("event older than the ring").isFalse();
    }

    /**
     * A savepoint whose users crowd the first half of the key groups, migrated at parallelism 2 to a
     * bundle that rebuilds every one. Under batch execution Flink 2.2's adaptive batch scheduler gives
     * each writer subtask a range of key groups balanced by bytes ("Optimized the balanced data
     * distribution"), not the range the State Processor API's writer owns; the writer handed a key
     * outside its range failed in a thread whose error the State Processor API does not pass on, and
     * the migration hung for ever (seen first at 25,000 users of release 619fd5e's layout: key groups
     * fill unevenly by chance; here on purpose, so that the split cannot fall on the owners' one).
     */
    @Test
    void aMigrationOfUnevenKeyGroupsAtParallelismTwoWritesEveryUserAndEnds() throws Exception {
        // the demo bundle (T = 30): enough bytes (about 25 MB between reader and writer) that the
        // scheduler runs two writers, as at 25,000 users of a full window
        ModelBundle demo = ModelBundle.load(DEMO);
        DienScorer a = DienModel.from(demo).newScorer();
        long[] items = demo.longs("vocab.item");
        long[] cats = demo.longs("vocab.category");
        List<LegacyUsers.LegacyUser> stored = new ArrayList<>();
        int low = 0;
        int high = 0;
        for (long user = 1; low < 32_000 || high < 8_000; user++) {
            // four users in each key group of the first half for every one in the second
            boolean firstHalf = KeyGroupRangeAssignment.assignToKeyGroup(user, 128) < 64;
            if (firstHalf ? low++ < 32_000 : high++ < 8_000) {
                stored.add(LegacyUsers.built(a, user, 40, items, cats, 64));
            }
        }
        int users = stored.size();
        String input = tmp.resolve("input").toUri().toString();
        LegacyUsers.write(stored, input);
        stored.clear();

        String output = tmp.resolve("migrated").toUri().toString();
        SavepointMigration.Result r = assertTimeoutPreemptively(Duration.ofMinutes(3),
                () -> SavepointMigration.migrate(input, UNTRAINED.toString(), output, 2),
                "the migration did not end");
        assertThat(r.users()).as("users migrated").isEqualTo(users);
        assertThat(r.rebuilt()).as("users rebuilt under the other bundle").isEqualTo(users);
        assertThat(r.reset()).isZero();
        List<UserSnapshot> migrated = SavedUsers.read(output);
        long fingerprint = ModelBundle.load(UNTRAINED).fingerprint64();
        assertThat(migrated).hasSize(users)
                .allSatisfy(u -> assertThat(u.user.modelFingerprint()).isEqualTo(fingerprint));
    }
}

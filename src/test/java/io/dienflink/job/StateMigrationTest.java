package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.CtrScore;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Restores operator state written by an earlier build, committed under
 * {@code src/test/resources/savepoints/}, the way Flink's own migration tests do. A change of the
 * state layout or serializers that cannot read these files fails here, before it fails a user's
 * upgrade. When a layout changes on purpose, keep the old files (they must still restore) and add
 * new ones: run {@link #main} to write a snapshot of the current build, from the project directory
 * with the test classpath and the new file's name as argument (the compact layout's fixture was
 * written with {@code java --add-modules=jdk.incubator.vector -Ddien.shared.dir=../shared -cp
 * target/test-classes:target/classes:<test dependencies> io.dienflink.job.StateMigrationTest
 * interest-scorer-format2-compact-rocksdb.snapshot}), and list it in {@link #FIXTURES}.
 */
class StateMigrationTest {
    /** A committed snapshot, and whether its users are in the layout before the compact one. */
    record Fixture(String file, boolean earlierLayout) {
        @Override
        public String toString() {
            return file;
        }
    }

    static List<Fixture> fixtures() {
        return FIXTURES;
    }

    /** Snapshots of earlier builds that must keep restoring; add new versions, never remove old ones. */
    private static final List<Fixture> FIXTURES = List.of(
            // a header value and one map entry per click, converted on each user's next event
            new Fixture("interest-scorer-format1-rocksdb.snapshot", true),
            // one StoredUser value per user
            new Fixture("interest-scorer-format2-compact-rocksdb.snapshot", false));
    private static final Path DIR = Path.of("src/test/resources/savepoints");
    private static final String BUNDLE = "official";

    /** The clicks the fixture holds, deterministic: user u has 4·u + 1 clicks (user 6 wraps the T = 20 ring). */
    static List<long[]> clicks(long user) {
        long[] items = GoldenCases.bundle(BUNDLE).longs("vocab.item");
        long[] cats = GoldenCases.bundle(BUNDLE).longs("vocab.category");
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < 4 * user + 1; i++) {
            out.add(new long[] {items[(int) ((user * 7 + i * 3) % items.length)], cats[(int) ((user + i) % cats.length)]});
        }
        return out;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> harness(
            KeyedCoProcessOperator<Long, Click, ScoreRequest, CtrScore> op, OperatorSubtaskState restore) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(op, Click::userId, ScoreRequest::userId, Types.LONG);
        h.setStateBackend(new EmbeddedRocksDBStateBackend(false));
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    private static KeyedCoProcessOperator<Long, Click, ScoreRequest, CtrScore> operator() {
        return new KeyedCoProcessOperator<>(new InterestScorer(GoldenCases.bundleDir(BUNDLE).toString(), null,
                14L * 86_400_000, 64, 0));
    }

    /** Writes a snapshot of the current build (run from the project directory). */
    public static void main(String[] args) throws Exception {
        String name = args.length > 0 ? args[0] : FIXTURES.get(FIXTURES.size() - 1).file();
        try (var h = harness(operator(), null)) {
            for (long user = 1; user <= 6; user++) {
                int i = 0;
                for (long[] c : clicks(user)) {
                    h.processElement1(new Click("e-" + user + "-" + i++, user, c[0], c[1], 1000 + i), i);
                }
            }
            OperatorSnapshotUtil.writeStateHandle(h.snapshot(1, 1), DIR.resolve(name).toString());
        }
    }

    /**
     * Each fixture restores; each of its users, in whichever layout the fixture holds it, scores as the
     * model core says after the fixture's clicks, and is then stored as one {@link StoredUser} value of
     * the same clicks, with nothing left in the earlier layout's states.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void everyCommittedSnapshotRestoresAndScores(Fixture fixture) throws Exception {
        DienScorer reference = DienModel.from(GoldenCases.bundle(BUNDLE)).newScorer();
        Path file = DIR.resolve(fixture.file());
        assertThat(file).as("committed fixture").exists();
        var op = operator();
        try (var h = harness(op, OperatorSnapshotUtil.readStateHandle(file.toString()))) {
            long[] items = {GoldenCases.bundle(BUNDLE).longs("vocab.item")[5], 77L};
            long[] cats = {GoldenCases.bundle(BUNDLE).longs("vocab.category")[2], 3L};
            for (long user = 1; user <= 6; user++) {
                String who = fixture.file() + " user " + user;
                long total = 4 * user + 1;
                int window = (int) Math.min(total, 20);
                if (fixture.earlierLayout()) {
                    assertThat(legacyHeader(op, user).value().totalClicks).as(who).isEqualTo(total);
                    assertThat(value(op, user).value()).as("%s before its next event", who).isNull();
                } else {
                    assertThat(value(op, user).value().totalClicks()).as(who).isEqualTo(total);
                    assertThat(legacyHeader(op, user).value()).as(who).isNull();
                }
                h.processElement2(new ScoreRequest("r" + user, user, 5, items, cats), 5);
                InterestState expected = reference.newState();
                clicks(user).forEach(c -> expected.append(reference, c[0], c[1]));
                float[] ctr = new float[2];
                expected.score(reference, user, items, cats, 2, Semantics.STREAMING, ctr);
                CtrScore s = h.extractOutputValues().get((int) user - 1);
                assertThat(s.getHistoryLength()).as(who).isEqualTo(window);
                assertThat(s.getClicksApplied()).as(who).isEqualTo(total);
                for (int i = 0; i < 2; i++) {
                    assertThat(s.getScores().get(i).getCtr()).as("%s candidate %d", who, i)
                            .isCloseTo(ctr[i], within(Reproducibility.TOLERANCE));
                }
                // after the request: one value of the compact layout, nothing in the earlier one
                StoredUser u = value(op, user).value();
                assertThat(u).as("%s as stored after its request", who).isNotNull();
                assertThat(u.totalClicks()).as(who).isEqualTo(total);
                assertThat(u.windowLength()).as(who).isEqualTo(window);
                List<long[]> clicks = clicks(user);
                for (int t = 0; t < window; t++) {
                    long[] c = clicks.get((int) total - window + t);
                    assertThat(new long[] {u.itemAt(t), u.categoryAt(t)}).as("%s click %d of the window", who, t)
                            .containsExactly(c);
                }
                assertThat(u.newest()).as("%s newest state", who)
                        .containsExactly(expected.stateAt(window - 1), within(Reproducibility.TOLERANCE));
                assertThat(legacyHeader(op, user).value()).as("%s: the earlier layout's header", who).isNull();
                assertThat(legacyWindow(op, user).isEmpty()).as("%s: the earlier layout's entries are gone", who).isTrue();
            }
        }
    }

    private static ValueState<StoredUser> value(KeyedCoProcessOperator<Long, Click, ScoreRequest, CtrScore> op, long user)
            throws Exception {
        op.setCurrentKey(user);
        return op.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                InterestScorer.userDescriptor());
    }

    private static ValueState<UserHeader> legacyHeader(KeyedCoProcessOperator<Long, Click, ScoreRequest, CtrScore> op,
                                                       long user) throws Exception {
        op.setCurrentKey(user);
        return op.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                InterestScorer.headerDescriptor());
    }

    private static MapState<Integer, ClickEntry> legacyWindow(KeyedCoProcessOperator<Long, Click, ScoreRequest, CtrScore> op,
                                                              long user) throws Exception {
        op.setCurrentKey(user);
        return op.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                InterestScorer.windowDescriptor());
    }

    @Test
    void fixtureDirectoryHoldsOnlyListedSnapshots() throws Exception {
        try (var files = Files.list(DIR)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList())
                    .containsExactlyInAnyOrderElementsOf(FIXTURES.stream().map(Fixture::file).toList());
        }
    }
}

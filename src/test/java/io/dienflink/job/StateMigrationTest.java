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

/**
 * Restores operator state written by an earlier build, committed under
 * {@code src/test/resources/savepoints/}, the way Flink's own migration tests do. A change of the
 * state layout or serializers that cannot read these files fails here, before it fails a user's
 * upgrade. When a layout changes on purpose, keep the old files (they must still restore) and add
 * new ones: run {@link #main} to write a snapshot of the current build.
 */
class StateMigrationTest {
    /** Snapshots of earlier builds that must keep restoring; add new versions, never remove old ones. */
    private static final List<String> FIXTURES = List.of("interest-scorer-format1-rocksdb.snapshot");
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
        String name = args.length > 0 ? args[0] : FIXTURES.get(FIXTURES.size() - 1);
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

    @Test
    void everyCommittedSnapshotRestoresAndScores() throws Exception {
        DienScorer reference = DienModel.from(GoldenCases.bundle(BUNDLE)).newScorer();
        for (String fixture : FIXTURES) {
            Path file = DIR.resolve(fixture);
            assertThat(file).as("committed fixture").exists();
            var op = operator();
            try (var h = harness(op, OperatorSnapshotUtil.readStateHandle(file.toString()))) {
                long[] items = {GoldenCases.bundle(BUNDLE).longs("vocab.item")[5], 77L};
                long[] cats = {GoldenCases.bundle(BUNDLE).longs("vocab.category")[2], 3L};
                for (long user = 1; user <= 6; user++) {
                    op.setCurrentKey(user);
                    ValueState<UserHeader> header = op.getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                            VoidNamespaceSerializer.INSTANCE, InterestScorer.headerDescriptor());
                    assertThat(header.value().totalClicks).as("%s user %d", fixture, user).isEqualTo(4 * user + 1);
                    h.processElement2(new ScoreRequest("r" + user, user, 5, items, cats), 5);
                    InterestState expected = reference.newState();
                    clicks(user).forEach(c -> expected.append(reference, c[0], c[1]));
                    float[] ctr = new float[2];
                    expected.score(reference, user, items, cats, 2, Semantics.STREAMING, ctr);
                    CtrScore s = h.extractOutputValues().get((int) user - 1);
                    assertThat(s.getHistoryLength()).isEqualTo(Math.min(4 * (int) user + 1, 20));
                    for (int i = 0; i < 2; i++) {
                        assertThat(s.getScores().get(i).getCtr()).as("%s user %d candidate %d", fixture, user, i)
                                .isCloseTo(ctr[i], within(Reproducibility.TOLERANCE));
                    }
                }
            }
        }
    }

    @Test
    void fixtureDirectoryHoldsOnlyListedSnapshots() throws Exception {
        try (var files = Files.list(DIR)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactlyInAnyOrderElementsOf(FIXTURES);
        }
    }
}

package io.dienflink.bench;

import io.dienflink.avro.CtrScore;
import io.dienflink.job.Click;
import io.dienflink.job.InterestScorer;
import io.dienflink.job.ScoreRequest;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelConfig;
import io.dienflink.model.Semantics;
import io.dienflink.reference.UntrainedBundles;
import io.dienflink.traffic.SyntheticWorld;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.storage.FileSystemCheckpointStorage;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The extra latency of a user's first request after an upgrade, in the operator on RocksDB: 2,000
 * users with full windows (T = 100, official dimensions) built by model A; the operator is restored
 * under model B; each user's first request rebuilds (read T entries, T cell steps, rewrite T
 * entries) and its second does not. Requests have 10 candidates. Not part of the test suite; run
 * with {@code ./mvnw -q test -Dtest=UpgradeLatencyBenchmark -Dgroups=benchmark -DexcludedGroups=none}.
 */
@Tag("benchmark")
class UpgradeLatencyBenchmark {
    private static final int USERS = 2_000;

    private static KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> harness(
            String bundle, OperatorSubtaskState restore, Path checkpoints) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new InterestScorer(bundle, null, 14L * 86_400_000, 64, 0)),
                Click::userId, ScoreRequest::userId, Types.LONG);
        EmbeddedRocksDBStateBackend rocks = new EmbeddedRocksDBStateBackend(true);
        rocks.getMemoryConfiguration().setFixedMemoryPerSlot(MemorySize.ofMebiBytes(256));
        h.setStateBackend(rocks);
        h.setCheckpointStorage(new FileSystemCheckpointStorage(checkpoints.toUri()));
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    @Test
    void firstRequestAfterUpgrade() throws Exception {
        Path dir = Files.createTempDirectory("dien-upgrade-bench");
        ModelConfig.VocabSizes vocab = new ModelConfig.VocabSizes(10_000, 5_000, 50);
        UntrainedBundles.random(UntrainedBundles.officialArchitecture("a", vocab, 100), 1).writeTo(dir.resolve("a"));
        UntrainedBundles.random(UntrainedBundles.officialArchitecture("b", vocab, 100), 2).writeTo(dir.resolve("b"));
        SyntheticWorld world = SyntheticWorld.demo(1);
        OperatorSubtaskState snapshot;
        java.util.List<SyntheticWorld.Click> firstUser = new java.util.ArrayList<>();
        try (var a = harness(dir.resolve("a").toString(), null, dir.resolve("cp"))) {
            long seq = 0;
            for (int u = 0; u < USERS; u++) {
                for (int i = 0; i < 110; i++) {
                    SyntheticWorld.Click c = world.click(u);
                    if (u == 0) {
                        firstUser.add(c);
                    }
                    a.processElement1(new Click("e" + seq++, c.userId(), c.itemId(), c.categoryId(), 1), 0);
                }
            }
            snapshot = a.snapshot(1, 1);
        }
        try (var b = harness(dir.resolve("b").toString(), snapshot, dir.resolve("cp"))) {
            long[] items = new long[10];
            long[] cats = new long[10];
            for (int i = 0; i < 10; i++) {
                SyntheticWorld.Candidate c = world.candidate(i);
                items[i] = c.itemId();
                cats[i] = c.categoryId();
            }
            double[] first = new double[USERS];
            double[] second = new double[USERS];
            for (int pass = 0; pass < 2; pass++) {
                double[] out = pass == 0 ? first : second;
                for (int u = 0; u < USERS; u++) {
                    long t0 = System.nanoTime();
                    b.processElement2(new ScoreRequest("r", SyntheticWorld.id(u), 1, items, cats), 0);
                    out[u] = (System.nanoTime() - t0) / 1e3;
                }
            }
            // both passes scored every user against a full window (the first after rebuilding it)
            org.assertj.core.api.Assertions.assertThat(b.extractOutputValues()).hasSize(2 * USERS)
                    .allSatisfy(s -> org.assertj.core.api.Assertions.assertThat(s.getHistoryLength()).isEqualTo(100));
            // and the first request did rebuild: user 0 scores as model B on its newest 100 clicks
            DienScorer modelB = DienModel.load(dir.resolve("b")).newScorer();
            InterestState rebuilt = modelB.newState();
            firstUser.subList(10, 110).forEach(c -> rebuilt.append(modelB, c.itemId(), c.categoryId()));
            float[] expected = new float[10];
            rebuilt.score(modelB, SyntheticWorld.id(0), items, cats, 10, Semantics.STREAMING, expected);
            CtrScore user0 = b.extractOutputValues().get(0);
            for (int i = 0; i < 10; i++) {
                org.assertj.core.api.Assertions.assertThat(user0.getScores().get(i).getCtr())
                        .isCloseTo(expected[i], org.assertj.core.api.Assertions.within(2e-5f));
            }
            java.util.Arrays.sort(first);
            java.util.Arrays.sort(second);
            System.out.println("| request | median µs | p90 µs |");
            System.out.println("|---|---:|---:|");
            System.out.printf("| first after the upgrade (rebuilds) | %.0f | %.0f |%n", first[USERS / 2], first[USERS * 9 / 10]);
            System.out.printf("| later (no rebuild) | %.0f | %.0f |%n", second[USERS / 2], second[USERS * 9 / 10]);
        }
    }
}

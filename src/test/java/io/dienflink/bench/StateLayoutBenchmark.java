package io.dienflink.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.job.ClickEntry;
import io.dienflink.job.DedupPolicy;
import io.dienflink.job.InterestScorer;
import io.dienflink.job.StoredUser;
import io.dienflink.job.UserHeader;
import io.dienflink.job.UserStore;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.ModelConfig;
import io.dienflink.model.Ring;
import io.dienflink.model.Semantics;
import io.dienflink.reference.UntrainedBundles;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.state.rocksdb.RocksDBKeyedStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-user state layouts side by side on the RocksDB backend, through Flink's operator harness
 * (real RocksDB keyed backend, real serializers), with the model math each layout needs:
 *
 * <ul>
 *   <li><b>header + entry per click</b> (the release before issue 18): a click reads and writes the
 *       user's {@link UserHeader} (newest state, ring, 64 remembered event ids) after one cell step
 *       and writes one {@link ClickEntry} (ids + the H-float state after the click); a request reads
 *       the header, iterates the T entries into an {@link InterestState} and scores.</li>
 *   <li><b>one compact value per user</b> (adopted): the job's own {@link UserStore} over a value
 *       state of {@link StoredUser}: a click reads and writes one value after one or two cell steps;
 *       a request reads it, replays T − 1 cell steps and scores.</li>
 * </ul>
 *
 * Users have full windows (T = 100, H = 36, the official architecture with random weights, or a
 * trained bundle given with {@code -Dbench.bundle=DIR}, whose states compress less; item
 * ids from a 5,000-item vocabulary, as the synthetic world's; a third row stores 64-bit hashes of
 * them instead, as a platform with hashed ids would, which the model maps to its unknown-id rows).
 * Requests carry 10 or 100 candidates;
 * the <b>model core</b> row scores the same requests from windows already in memory, so "request −
 * core" is what the layout adds. Costs are the benchmark thread's CPU time (ThreadMXBean), not wall
 * time, so neighbours on a shared machine distort them less; layouts take turns within each
 * repetition and ratios are taken within a repetition.
 *
 * <p>Bytes per user: after the fill, every user's clock is moved past the de-duplication horizon
 * and one more click applied (a user at rest remembers the events of its last burst; here one), the
 * column families are compacted, and the SST files under the backend's directory are summed; the
 * full snapshot of the operator (what a savepoint or a full checkpoint writes, compressed as the job
 * writes them) is measured too.
 *
 * <p>Not part of the test suite (tag {@code benchmark}); run with
 * {@code ./mvnw -B -o test -Dtest=StateLayoutBenchmark -Dgroups=benchmark -DexcludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
class StateLayoutBenchmark {
    private static final int USERS = 2_000;
    /** {@code -Dbench.bundle=DIR}: a trained bundle instead of random weights (its T and H), e.g. bundles/demo. */
    private static final String BUNDLE_DIR = System.getProperty("bench.bundle", "");
    private static final int CLICKS = 10_000;
    private static final int REQUESTS = 1_000;
    private static final int REPETITIONS = 7;
    private static final long HORIZON_MS = InterestScorer.DEFAULT_DEDUP_HORIZON_MS;
    private static final ModelBundle BUNDLE = BUNDLE_DIR.isEmpty()
            ? UntrainedBundles.random(UntrainedBundles.officialArchitecture("state-layout",
                    new ModelConfig.VocabSizes(USERS, 5_000, 50), 100), 7)
            : ModelBundle.load(Path.of(BUNDLE_DIR));
    private static final int T = BUNDLE.config().maxHistory();
    private static final int H = BUNDLE.config().hiddenDim();

    enum Kind { CLICK, REQUEST_10, REQUEST_100 }

    /** Input: user id, what the event is, and the click's ids or the request's candidates' seed. */
    record Event(long user, Kind kind, long item, long category) {}

    /** Candidates of a request, the same for every layout: derived from the event. */
    static long[][] candidates(Event e) {
        int n = e.kind() == Kind.REQUEST_10 ? 10 : 100;
        long[][] c = new long[2][n];
        for (int i = 0; i < n; i++) {
            c[0][i] = (e.item() + 37L * i) % 5_000;
            c[1][i] = (e.category() + i) % 50;
        }
        return c;
    }

    /** The layout before issue 18, as its operator kept a user (with the same cell step per click). */
    static final class HeaderAndEntries extends KeyedProcessFunction<Long, Event, Integer> {
        private transient DienScorer scorer;
        private transient ValueState<UserHeader> header;
        private transient MapState<Integer, ClickEntry> window;
        private transient InterestState loaded;
        private transient float[] ctr;

        @Override
        public void open(OpenContext ctx) {
            scorer = DienModel.from(BUNDLE).newScorer();
            loaded = scorer.newState();
            ctr = new float[100];
            header = getRuntimeContext().getState(InterestScorer.headerDescriptor());
            window = getRuntimeContext().getMapState(InterestScorer.windowDescriptor());
        }

        @Override
        public void processElement(Event e, Context ctx, Collector<Integer> out) throws Exception {
            UserHeader h = header.value();
            if (e.kind() == Kind.CLICK) {
                if (h == null) {
                    h = new UserHeader();
                    h.modelFingerprint = scorer.model().fingerprint64();
                    h.capacity = T;
                    h.lastState = new float[H];
                    h.recentEventIds = new long[64];
                }
                h.recentEventIds[h.recentNext] = e.user() * 31 + h.totalClicks;
                h.recentNext = Ring.after(h.recentNext, 64);
                scorer.advance(h.lastState, e.item(), e.category());
                window.put(h.next, new ClickEntry(e.item(), e.category(), h.lastState.clone()));
                h.next = Ring.after(h.next, T);
                h.count = Ring.grown(h.count, T);
                h.totalClicks++;
                header.update(h);
            } else if (h != null) {
                loaded.reset(h.modelFingerprint, T, H, h.totalClicks, h.count, h.next);
                for (Map.Entry<Integer, ClickEntry> en : window.entries()) {
                    loaded.put(en.getKey(), en.getValue().itemId, en.getValue().categoryId, en.getValue().state);
                }
                long[][] c = candidates(e);
                loaded.score(scorer, e.user(), c[0], c[1], c[0].length, Semantics.STREAMING, ctr);
                out.collect(loaded.windowLength());
            }
        }
    }

    /** The adopted layout: the job's own store. */
    static final class CompactValue extends KeyedProcessFunction<Long, Event, Integer> {
        /** Store 64-bit hashes of the ids, as a platform with hashed ids would (unknown to the model: bytes only). */
        private final boolean hashedIds;
        private transient DienScorer scorer;
        private transient UserStore store;
        private transient float[] ctr;

        CompactValue(boolean hashedIds) {
            this.hashedIds = hashedIds;
        }

        @Override
        public void open(OpenContext ctx) {
            scorer = DienModel.from(BUNDLE).newScorer();
            ctr = new float[100];
            ValueState<StoredUser> user = getRuntimeContext().getState(InterestScorer.userDescriptor());
            store = new UserStore(scorer, UserStore.slot(user), null, new DedupPolicy(64, HORIZON_MS), null,
                    new UserStore.Events() {});
        }

        @Override
        public void processElement(Event e, Context ctx, Collector<Integer> out) throws Exception {
            long now = ctx.timerService().currentProcessingTime();
            if (e.kind() == Kind.CLICK) {
                long item = hashedIds ? mix(e.item()) : e.item();
                long category = hashedIds ? mix(e.category() + (1L << 40)) : e.category();
                store.click(e.user(), e.user() * 31 + now + e.item(), item, category, now, UserStore.UNTRACKED);
            } else {
                InterestState s = store.load(e.user(), now, UserStore.UNTRACKED);
                if (s != null) {
                    long[][] c = candidates(e);
                    s.score(scorer, e.user(), c[0], c[1], c[0].length, Semantics.STREAMING, ctr);
                    out.collect(s.windowLength());
                }
            }
        }
    }

    /** One layout under test, with its own random users (the same sequence for every layout). */
    private record Run(String name, KeyedOneInputStreamOperatorTestHarness<Long, Event, Integer> harness, File dbDir,
                       SplittableRandom rnd, double[] click, double[] request10, double[] request100) {}

    @TempDir
    Path tmp;

    @Test
    void compareLayouts() throws Exception {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        List<Run> runs = new ArrayList<>();
        for (String layout : List.of("header + entry per click (before)", "one compact value per user (adopted)",
                "one compact value per user, 64-bit hashed ids")) {
            KeyedProcessFunction<Long, Event, Integer> f = layout.startsWith("header") ? new HeaderAndEntries()
                    : new CompactValue(layout.contains("hashed"));
            var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(f), Event::user, Types.LONG);
            EmbeddedRocksDBStateBackend rocks = new EmbeddedRocksDBStateBackend(false);
            File dir = Files.createDirectories(tmp.resolve("layout-" + runs.size())).toFile();
            rocks.setDbStoragePath(dir.getAbsolutePath());
            // The harness's mock environment has almost no managed memory; give RocksDB what one
            // slot of a real TaskManager would have, or every write would trigger a flush.
            rocks.getMemoryConfiguration().setFixedMemoryPerSlot(MemorySize.ofMebiBytes(256));
            h.setStateBackend(rocks);
            h.setCheckpointStorage(new org.apache.flink.runtime.state.storage.FileSystemCheckpointStorage(
                    tmp.resolve("checkpoints-" + dir.getName()).toUri()));
            h.getExecutionConfig().setUseSnapshotCompression(true); // as the job writes its snapshots
            h.setup();
            h.open();
            h.setProcessingTime(1_000);
            SplittableRandom fill = new SplittableRandom(11);
            for (int u = 0; u < USERS; u++) { // full windows (also warms the JIT)
                for (int i = 0; i < T + 10; i++) {
                    h.processElement(click(u, fill), 0);
                }
            }
            runs.add(new Run(layout, h, dir, new SplittableRandom(5), new double[REPETITIONS], new double[REPETITIONS],
                    new double[REPETITIONS]));
        }
        for (int r = 0; r < REPETITIONS; r++) {
            for (int k = 0; k < runs.size(); k++) {
                Run run = runs.get((r + k) % runs.size());
                var h = run.harness();
                long t0 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < CLICKS; i++) {
                    h.processElement(click(run.rnd().nextInt(USERS), run.rnd()), 0);
                }
                run.click()[r] = (cpu.getCurrentThreadCpuTime() - t0) / 1e3 / CLICKS;
                for (Kind kind : List.of(Kind.REQUEST_10, Kind.REQUEST_100)) {
                    t0 = cpu.getCurrentThreadCpuTime();
                    for (int i = 0; i < REQUESTS; i++) {
                        h.processElement(new Event(run.rnd().nextInt(USERS), kind, run.rnd().nextInt(5_000),
                                run.rnd().nextInt(50)), 0);
                    }
                    (kind == Kind.REQUEST_10 ? run.request10() : run.request100())[r] =
                            (cpu.getCurrentThreadCpuTime() - t0) / 1e3 / REQUESTS;
                }
                // every request loaded a full window: a layout that lost clicks would look fast
                assertThat(h.extractOutputValues()).hasSize(2 * REQUESTS).containsOnly(T);
                h.getOutput().clear();
            }
        }
        double[][] core = modelCore(cpu);
        Run base = runs.get(0);
        System.out.println("| layout | CPU µs per click | CPU µs per request, 10 candidates | CPU µs per request, 100 candidates "
                + "| click / before | request 10 / before | request 100 / before |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (Run run : runs) {
            System.out.printf("| %s | %s | %s | %s | %s | %s | %s |%n", run.name(), Spread.of(run.click()).format(1),
                    Spread.of(run.request10()).format(1), Spread.of(run.request100()).format(1),
                    Spread.of(ratio(run.click(), base.click())).format(2),
                    Spread.of(ratio(run.request10(), base.request10())).format(2),
                    Spread.of(ratio(run.request100(), base.request100())).format(2));
        }
        System.out.printf("| model core only (window in memory) | – | %s | %s | | | |%n", Spread.of(core[0]).format(1),
                Spread.of(core[1]).format(1));

        System.out.println();
        System.out.println("| layout | SST bytes per user after compaction | full snapshot bytes per user |");
        System.out.println("|---|---:|---:|");
        for (Run run : runs) {
            var h = run.harness();
            // a user at rest: idle past the de-duplication horizon, then one click (one remembered event)
            h.setProcessingTime(1_000 + HORIZON_MS + 1);
            SplittableRandom rest = new SplittableRandom(13);
            for (int u = 0; u < USERS; u++) {
                h.processElement(click(u, rest), 0);
            }
            @SuppressWarnings("unchecked")
            RocksDBKeyedStateBackend<?> backend = (RocksDBKeyedStateBackend<?>) (Object) h.getOperator().getKeyedStateBackend();
            if (run.name().startsWith("header")) {
                backend.compactState(InterestScorer.headerDescriptor());
                backend.compactState(InterestScorer.windowDescriptor());
            } else {
                backend.compactState(InterestScorer.userDescriptor());
            }
            long sst = sstBytes(run.dbDir().toPath());
            long snapshot = h.snapshot(1, 1).getStateSize();
            System.out.printf("| %s | %.0f | %.0f |%n", run.name(), sst / (double) USERS, snapshot / (double) USERS);
            h.close();
        }
    }

    /** The same requests scored from windows already in memory: what the model itself costs. */
    private static double[][] modelCore(ThreadMXBean cpu) {
        DienScorer scorer = DienModel.from(BUNDLE).newScorer();
        SplittableRandom fill = new SplittableRandom(11);
        InterestState[] users = new InterestState[USERS];
        for (int u = 0; u < USERS; u++) {
            users[u] = scorer.newState();
            for (int i = 0; i < T + 10; i++) {
                Event c = click(u, fill);
                users[u].append(scorer, c.item(), c.category());
            }
        }
        float[] ctr = new float[100];
        SplittableRandom rnd = new SplittableRandom(5);
        double[][] out = new double[2][REPETITIONS];
        for (int r = 0; r < REPETITIONS; r++) {
            for (int k = 0; k < 2; k++) {
                Kind kind = k == 0 ? Kind.REQUEST_10 : Kind.REQUEST_100;
                long t0 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < REQUESTS; i++) {
                    Event e = new Event(rnd.nextInt(USERS), kind, rnd.nextInt(5_000), rnd.nextInt(50));
                    long[][] c = candidates(e);
                    users[(int) e.user()].score(scorer, e.user(), c[0], c[1], c[0].length, Semantics.STREAMING, ctr);
                }
                out[k][r] = (cpu.getCurrentThreadCpuTime() - t0) / 1e3 / REQUESTS;
            }
        }
        return out;
    }

    /** A 64-bit hash (SplitMix64's finalizer): the id a platform with hashed ids would send. */
    static long mix(long v) {
        long z = v + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static Event click(int user, SplittableRandom rnd) {
        return new Event(user, Kind.CLICK, rnd.nextInt(5_000), rnd.nextInt(50));
    }

    private static double[] ratio(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] / b[i];
        }
        return out;
    }

    private static long sstBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".sst")).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}

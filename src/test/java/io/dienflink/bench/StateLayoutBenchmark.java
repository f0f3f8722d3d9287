package io.dienflink.bench;

import io.dienflink.job.ClickEntry;
import io.dienflink.job.InterestScorer;
import io.dienflink.job.UserHeader;
import io.dienflink.job.UserWindowCache;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelConfig;
import io.dienflink.reference.UntrainedBundles;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures the state access of candidate layouts on the RocksDB backend, through Flink's
 * operator harness (real RocksDB keyed backend, real serializers). The model math is left out: it
 * is the same for every layout and measured by the JMH benchmarks.
 *
 * <ul>
 *   <li><b>header + entry per click</b> (the job's layout): a click reads and writes the user's
 *       {@link UserHeader} and writes one {@link ClickEntry}; a request reads the header and
 *       iterates the T entries into an {@link InterestState}.</li>
 *   <li><b>chunks of K clicks</b> (K = 10, 25): the header and one map entry per K ring slots; a
 *       click reads, changes and rewrites its chunk, a request iterates T / K entries.</li>
 *   <li><b>header + entry per click with the job's heap cache</b> ({@link UserWindowCache}) of all
 *       users or of a quarter of them: a request reads the header and scores the cached window when
 *       it matches, else loads the entries and caches them; a click also updates the cached copy.</li>
 *   <li><b>one value per user</b>: a click reads the encoded {@link InterestState} ({@link EncodedUser},
 *       plus the same 64 event-id hashes), decodes, re-encodes and writes it; a request reads and decodes it.</li>
 * </ul>
 *
 * Users have full windows (T = 100, H = 36); RocksDB gets 256 MB, as one slot of a TaskManager. Not part of the test suite (tag {@code benchmark});
 * run with {@code ./mvnw -q test -Dtest=StateLayoutBenchmark -Dgroups=benchmark -DexcludedGroups=none}.
 * Prints the median and range of 9 repetitions of 20,000 clicks and 4,000 requests per layout, the layouts taking
 * turns, and each layout's ratio to the job's layout within a repetition.
 */
@Tag("benchmark")
class StateLayoutBenchmark {
    private static final int USERS = 2_000;
    private static final int T = 100;
    private static final int H = 36;
    private static final int CLICKS = 20_000;
    private static final int REQUESTS = 4_000;
    private static final int REPETITIONS = 9;
    /** A scorer only for {@code newState()}: the layouts load users with reset and put, and need no model math. */
    private static final DienScorer EMPTY = DienModel.from(UntrainedBundles.random(
            UntrainedBundles.officialArchitecture("state-layout", new ModelConfig.VocabSizes(1, 1, 1), T), 1)).newScorer();

    /** Input: user id, and whether the event is a click (true) or a request. */
    record Event(long user, boolean click) {}

    /** The job's layout, with the job's descriptors and serializers. */
    static final class HeaderAndEntries extends KeyedProcessFunction<Long, Event, Integer> {
        private transient ValueState<UserHeader> header;
        private transient MapState<Integer, ClickEntry> window;
        private transient InterestState loaded;

        @Override
        public void open(OpenContext ctx) {
            loaded = EMPTY.newState();
            header = getRuntimeContext().getState(InterestScorer.headerDescriptor());
            window = getRuntimeContext().getMapState(InterestScorer.windowDescriptor());
        }

        @Override
        public void processElement(Event e, Context ctx, Collector<Integer> out) throws Exception {
            UserHeader h = header.value();
            if (e.click()) {
                if (h == null) {
                    h = new UserHeader();
                    h.capacity = T;
                    h.lastState = new float[H];
                    h.recentEventIds = new long[64];
                }
                h.recentEventIds[h.recentNext] = e.user() * 31 + h.totalClicks;
                h.recentNext = (h.recentNext + 1) % 64;
                window.put(h.next, new ClickEntry(h.totalClicks, 7, h.lastState.clone()));
                h.next = (h.next + 1) % T;
                h.count = Math.min(h.count + 1, T);
                h.totalClicks++;
                header.update(h);
            } else if (h != null) {
                // as the operator loads a user: into one reused state, entry by entry
                loaded.reset(1, T, H, h.totalClicks, h.count, h.count < T ? h.count : h.next);
                for (Map.Entry<Integer, ClickEntry> en : window.entries()) {
                    loaded.put(en.getKey(), en.getValue().itemId, en.getValue().categoryId, en.getValue().state);
                }
                out.collect(loaded.windowLength());
            }
        }
    }

    /**
     * A chunked layout: {@value #CHUNK} clicks per map entry (chunk c holds ring slots
     * {@code c·CHUNK … c·CHUNK + CHUNK − 1}, serialized as one byte array). A click reads, changes and
     * rewrites its chunk; a request iterates T / CHUNK entries.
     */
    static final class Chunked extends KeyedProcessFunction<Long, Event, Integer> {
        private static final int ENTRY_BYTES = 8 + 8 + 4 * H;
        private final int chunk;
        private transient ValueState<UserHeader> header;
        private transient MapState<Integer, byte[]> chunks;
        private transient InterestState loaded;
        private transient float[] row;

        Chunked(int chunk) {
            this.chunk = chunk;
        }

        @Override
        public void open(OpenContext ctx) {
            loaded = EMPTY.newState();
            row = new float[H];
            header = getRuntimeContext().getState(InterestScorer.headerDescriptor());
            chunks = getRuntimeContext().getMapState(new org.apache.flink.api.common.state.MapStateDescriptor<>(
                    "user-window-chunks", Types.INT, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        }

        @Override
        public void processElement(Event e, Context ctx, Collector<Integer> out) throws Exception {
            UserHeader h = header.value();
            if (e.click()) {
                if (h == null) {
                    h = new UserHeader();
                    h.capacity = T;
                    h.lastState = new float[H];
                    h.recentEventIds = new long[64];
                }
                h.recentEventIds[h.recentNext] = e.user() * 31 + h.totalClicks;
                h.recentNext = (h.recentNext + 1) % 64;
                int c = h.next / chunk;
                byte[] bytes = chunks.get(c);
                int inChunk = Math.min(chunk, T - c * chunk);
                bytes = bytes == null ? new byte[inChunk * ENTRY_BYTES] : bytes.clone();
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
                b.position((h.next - c * chunk) * ENTRY_BYTES);
                b.putLong(h.totalClicks).putLong(7);
                for (float f : h.lastState) {
                    b.putFloat(f);
                }
                chunks.put(c, bytes);
                h.next = (h.next + 1) % T;
                h.count = Math.min(h.count + 1, T);
                h.totalClicks++;
                header.update(h);
            } else if (h != null) {
                loaded.reset(1, T, H, h.totalClicks, h.count, h.count < T ? h.count : h.next);
                for (Map.Entry<Integer, byte[]> en : chunks.entries()) {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(en.getValue());
                    int first = en.getKey() * chunk;
                    for (int i = 0; i < en.getValue().length / ENTRY_BYTES && first + i < h.count; i++) {
                        long item = b.getLong();
                        long category = b.getLong();
                        for (int k = 0; k < H; k++) {
                            row[k] = b.getFloat();
                        }
                        loaded.put(first + i, item, category, row);
                    }
                }
                out.collect(loaded.windowLength());
            }
        }
    }

    /** The alternative: the whole user as one value. */
    static final class ValuePerUser extends KeyedProcessFunction<Long, Event, Integer> {
        private transient ValueState<byte[]> user;

        @Override
        public void open(OpenContext ctx) {
            user = getRuntimeContext().getState(new ValueStateDescriptor<>("user",
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        }

        @Override
        public void processElement(Event e, Context ctx, Collector<Integer> out) throws Exception {
            byte[] bytes = user.value();
            if (e.click()) {
                InterestState s;
                long[] ids = new long[64];
                if (bytes == null) {
                    s = EMPTY.newState();
                } else {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
                    InterestState stored = EncodedUser.decode(b, EMPTY.newState());
                    b.asLongBuffer().get(ids);
                    // the append's bookkeeping without its math: the newest click replaces the oldest
                    int k = stored.windowLength();
                    int n = Math.min(k + 1, T);
                    s = EMPTY.newState();
                    s.reset(1, T, H, stored.totalClicks() + 1, n, n == T ? 0 : n);
                    for (int t = k + 1 - n, i = 0; t < k; t++, i++) {
                        s.put(i, stored.itemAt(t), stored.categoryAt(t), stored.stateAt(t));
                    }
                    s.put(n - 1, 0, 0, new float[H]);
                }
                ids[(int) (s.totalClicks() % 64)] = e.user();
                java.nio.ByteBuffer out2 = java.nio.ByteBuffer.allocate(EncodedUser.size(s.windowLength(), H) + 8 * 64);
                EncodedUser.encodeTo(s, H, out2);
                out2.asLongBuffer().put(ids);
                user.update(out2.array());
            } else if (bytes != null) {
                out.collect(EncodedUser.decode(java.nio.ByteBuffer.wrap(bytes), EMPTY.newState()).windowLength());
            }
        }
    }

    /** One layout under test: its operator harness and its own random users (the same sequence for every layout). */
    private record Run(String name, KeyedProcessFunction<Long, Event, Integer> function,
                       KeyedOneInputStreamOperatorTestHarness<Long, Event, Integer> harness, SplittableRandom rnd,
                       double[] click, double[] request) {}

    @Test
    void compareLayouts() throws Exception {
        List<Run> runs = new ArrayList<>();
        for (String layout : List.of("header + entry per click (the job's)", "chunks of 10 clicks", "chunks of 25 clicks",
                "header + entry per click, cache of all users", "header + entry per click, cache of 1/4 of the users",
                "one value per user")) {
            KeyedProcessFunction<Long, Event, Integer> f = switch (layout) {
                case "chunks of 10 clicks" -> new Chunked(10);
                case "chunks of 25 clicks" -> new Chunked(25);
                case "one value per user" -> new ValuePerUser();
                default -> new HeaderAndEntries();
            };
            var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(f), Event::user, Types.LONG);
            EmbeddedRocksDBStateBackend rocks = new EmbeddedRocksDBStateBackend(true);
            // The harness's mock environment has almost no managed memory; give RocksDB what one
            // slot of a real TaskManager would have, or every write would trigger a flush.
            rocks.getMemoryConfiguration().setFixedMemoryPerSlot(MemorySize.ofMebiBytes(256));
            h.setStateBackend(rocks);
            h.setup();
            h.open();
            for (int u = 0; u < USERS; u++) { // fill: full windows (also warms the JIT)
                for (int i = 0; i < T + 10; i++) {
                    h.processElement(new Event(u, true), 0);
                }
            }
            runs.add(new Run(layout, f, h, new SplittableRandom(5), new double[REPETITIONS], new double[REPETITIONS]));
        }
        // The layouts take turns, repetition by repetition (in a rotating order), so that a machine
        // whose speed drifts (other processes) slows them alike; the ratios to the job's layout are
        // taken within each repetition.
        for (int r = 0; r < REPETITIONS; r++) {
            for (int k = 0; k < runs.size(); k++) {
                Run run = runs.get((r + k) % runs.size());
                var h = run.harness();
                long t0 = System.nanoTime();
                for (int i = 0; i < CLICKS; i++) {
                    h.processElement(new Event(run.rnd().nextInt(USERS), true), 0);
                }
                run.click()[r] = (System.nanoTime() - t0) / 1e3 / CLICKS;
                t0 = System.nanoTime();
                for (int i = 0; i < REQUESTS; i++) {
                    h.processElement(new Event(run.rnd().nextInt(USERS), false), 0);
                }
                run.request()[r] = (System.nanoTime() - t0) / 1e3 / REQUESTS;
                // every request loaded a full window: a layout that lost clicks would look fast
                org.assertj.core.api.Assertions.assertThat(h.extractOutputValues()).hasSize(REQUESTS).containsOnly(T);
                h.getOutput().clear();
            }
        }
        Run base = runs.get(0);
        System.out.println("| layout | µs per click: median (min–max) | µs per request: median (min–max) "
                + "| click / job's layout | request / job's layout | cache hits |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (Run run : runs) {
            run.harness().close();
            double[] clickRatio = new double[REPETITIONS];
            double[] requestRatio = new double[REPETITIONS];
            for (int r = 0; r < REPETITIONS; r++) {
                clickRatio[r] = run.click()[r] / base.click()[r];
                requestRatio[r] = run.request()[r] / base.request()[r];
            }
            String hits = "–";
            System.out.printf("| %s | %s | %s | %s | %s | %s |%n", run.name(), Spread.of(run.click()).format(1),
                    Spread.of(run.request()).format(1), Spread.of(clickRatio).format(2), Spread.of(requestRatio).format(2), hits);
        }
    }
}

package io.dienflink.bench;

import io.dienflink.job.ClickEntry;
import io.dienflink.job.InterestScorer;
import io.dienflink.job.UserHeader;
import io.dienflink.model.InterestState;
import java.util.ArrayList;
import java.util.Arrays;
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
 * Measures the state access of the two candidate layouts on the RocksDB backend, through Flink's
 * operator harness (real RocksDB keyed backend, real serializers). The model math is left out: it
 * is the same for both layouts and measured by the JMH benchmarks.
 *
 * <ul>
 *   <li><b>header + entry per click</b> (the job's layout): a click reads and writes the user's
 *       {@link UserHeader} and writes one {@link ClickEntry}; a request reads the header and
 *       iterates the T entries into an {@link InterestState}.</li>
 *   <li><b>one value per user</b>: a click reads the encoded {@link InterestState} (plus the same 64
 *       event-id hashes), decodes, re-encodes and writes it; a request reads and decodes it.</li>
 * </ul>
 *
 * Users have full windows (T = 100, H = 36); RocksDB gets 256 MB, as one slot of a TaskManager. Not part of the test suite (tag {@code benchmark});
 * run with {@code ./mvnw -q test -Dtest=StateLayoutBenchmark -Dgroups=benchmark -DexcludedGroups=none}.
 * Prints the median of 7 repetitions of 50,000 clicks and 10,000 requests.
 */
@Tag("benchmark")
class StateLayoutBenchmark {
    private static final int USERS = 2_000;
    private static final int T = 100;
    private static final int H = 36;
    private static final int CLICKS = 50_000;
    private static final int REQUESTS = 10_000;
    private static final int REPETITIONS = 7;

    /** Input: user id, and whether the event is a click (true) or a request. */
    record Event(long user, boolean click) {}

    /** The job's layout, with the job's descriptors and serializers. */
    static final class HeaderAndEntries extends KeyedProcessFunction<Long, Event, Integer> {
        private transient ValueState<UserHeader> header;
        private transient MapState<Integer, ClickEntry> window;
        private transient InterestState loaded;

        @Override
        public void open(OpenContext ctx) {
            loaded = InterestState.restore(1, T, H, 0, new long[0], new long[0], new float[0]);
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
                    s = InterestState.restore(1, T, H, 0, new long[0], new long[0], new float[0]);
                } else {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
                    s = InterestState.decode(b);
                    b.asLongBuffer().get(ids);
                    // the append's bookkeeping without its math: the newest click replaces the oldest
                    int k = s.windowLength();
                    long[] items = new long[Math.min(k + 1, T)];
                    long[] cats = new long[items.length];
                    float[] states = new float[items.length * H];
                    for (int t = k + 1 - items.length, i = 0; t < k; t++, i++) {
                        items[i] = s.itemAt(t);
                        cats[i] = s.categoryAt(t);
                        System.arraycopy(s.stateAt(t), 0, states, i * H, H);
                    }
                    s = InterestState.restore(1, T, H, s.totalClicks() + 1, items, cats, states);
                }
                ids[(int) (s.totalClicks() % 64)] = e.user();
                java.nio.ByteBuffer out2 = java.nio.ByteBuffer.allocate(s.encodedSize() + 8 * 64);
                s.encodeTo(out2);
                out2.asLongBuffer().put(ids);
                user.update(out2.array());
            } else if (bytes != null) {
                out.collect(InterestState.decode(bytes).windowLength());
            }
        }
    }

    @Test
    void compareLayouts() throws Exception {
        List<String> lines = new ArrayList<>();
        for (boolean entries : new boolean[] {true, false}) {
            KeyedProcessFunction<Long, Event, Integer> f = entries ? new HeaderAndEntries() : new ValuePerUser();
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
            SplittableRandom rnd = new SplittableRandom(5);
            double[] click = new double[REPETITIONS];
            double[] request = new double[REPETITIONS];
            for (int r = 0; r < REPETITIONS; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < CLICKS; i++) {
                    h.processElement(new Event(rnd.nextInt(USERS), true), 0);
                }
                click[r] = (System.nanoTime() - t0) / 1e3 / CLICKS;
                t0 = System.nanoTime();
                for (int i = 0; i < REQUESTS; i++) {
                    h.processElement(new Event(rnd.nextInt(USERS), false), 0);
                }
                request[r] = (System.nanoTime() - t0) / 1e3 / REQUESTS;
                // every request loaded a full window: a layout that lost clicks would look fast
                org.assertj.core.api.Assertions.assertThat(h.extractOutputValues()).hasSize(REQUESTS).containsOnly(T);
                h.getOutput().clear();
            }
            h.close();
            Arrays.sort(click);
            Arrays.sort(request);
            lines.add(String.format("| %s | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) |",
                    entries ? "header + entry per click" : "one value per user",
                    click[REPETITIONS / 2], click[0], click[REPETITIONS - 1],
                    request[REPETITIONS / 2], request[0], request[REPETITIONS - 1]));
        }
        System.out.println("| layout | µs per click: median (min–max) | µs per request: median (min–max) |");
        System.out.println("|---|---:|---:|");
        lines.forEach(System.out::println);
    }
}

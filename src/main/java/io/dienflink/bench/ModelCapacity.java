package io.dienflink.bench;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Semantics;
import io.dienflink.traffic.SyntheticWorld;
import java.time.Duration;

/**
 * The model core's single-thread capacity for {@code bench}'s own request mix: the requests per
 * second one thread can score with the same {@link DienScorer} path the job's operator uses
 * ({@link InterestState#score} with streaming semantics), against the windows the job holds and with
 * the candidates the traffic generator sends.
 *
 * <p>The windows are built by replaying the synthetic world's clicks: a world of the same seed draws
 * the same preload the generator sends (it draws a user, then that user's click), so after
 * {@code clicks} appends every user's window has the length, and the ring the contents, the job's
 * state has once it has applied the same clicks. State access (RocksDB) is not included: this is the
 * ceiling the job's scorer subtasks could reach if reading state, Kafka and Flink cost nothing.
 */
public final class ModelCapacity {
    /** What one measurement found. */
    public record Result(double requestsPerSecond, double meanWindow, long requests, double seconds) {}

    /**
     * What {@link #cpuPerRequest} found: the calling thread's CPU time per request, the window
     * length scored against and how many requests were measured.
     */
    public record Cpu(double microsPerRequest, int window, long requests) {}

    private static final int WARM_UP_REQUESTS = 1_000;
    private static final long MAX_WARM_UP_NS = 60_000_000_000L;
    private static final long CPU_WARM_UP_NS = 3_000_000_000L;

    private ModelCapacity() {}

    /**
     * The model core's CPU time per request on the calling thread, measured with
     * {@link java.lang.management.ThreadMXBean#getCurrentThreadCpuTime()} (so that what else runs
     * on a shared machine does not count, unlike {@link #measure}'s wall-clock rate): requests of
     * {@code candidates} candidates drawn as the traffic generator draws them, scored with
     * {@link InterestState#score} and streaming semantics as the job's operator does, against full
     * windows (T = the model's {@code maxHistory} clicks each, as after a fill or a bootstrap).
     * State access is not included. Before measuring, scores for at least 3 s and
     * {@value #WARM_UP_REQUESTS} requests (at most a minute), so that C2 has compiled the kernels.
     *
     * @param users users whose windows are built; memory about {@code users · T · (16 + 4H)} bytes,
     *     so a sample (a thousand) stands for any number of users: the cost of a request does not
     *     depend on who asks
     * @param requests requests measured
     * @throws UnsupportedOperationException if this JVM cannot measure a thread's CPU time
     */
    public static Cpu cpuPerRequest(DienModel model, int users, int candidates, int requests, long seed) {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        if (!threads.isCurrentThreadCpuTimeSupported()) {
            throw new UnsupportedOperationException("this JVM does not measure a thread's CPU time");
        }
        if (!threads.isThreadCpuTimeEnabled()) {
            threads.setThreadCpuTimeEnabled(true);
        }
        DienScorer scorer = model.newScorer();
        SyntheticWorld world = SyntheticWorld.demo(users, seed);
        int window = model.config().maxHistory();
        InterestState[] states = new InterestState[users];
        for (int u = 0; u < users; u++) {
            states[u] = scorer.newState();
            for (int k = 0; k < window; k++) {
                SyntheticWorld.Click c = world.click(u);
                states[u].append(scorer, c.itemId(), c.categoryId());
            }
        }
        long[] items = new long[candidates];
        long[] categories = new long[candidates];
        float[] ctr = new float[candidates];
        float sink = 0;
        long start = System.nanoTime();
        for (long n = 0; ; n++) {
            long elapsed = System.nanoTime() - start;
            if ((elapsed >= CPU_WARM_UP_NS && n >= WARM_UP_REQUESTS) || elapsed >= MAX_WARM_UP_NS) {
                break;
            }
            sink += scoreOne(scorer, world, states, items, categories, ctr);
        }
        // drawn beforehand, so that the measured CPU is the model's alone
        int[] who = new int[requests];
        long[] allItems = new long[requests * candidates];
        long[] allCategories = new long[requests * candidates];
        for (int n = 0; n < requests; n++) {
            who[n] = world.randomUser();
            for (int i = 0; i < candidates; i++) {
                SyntheticWorld.Candidate c = world.candidate(who[n]);
                allItems[n * candidates + i] = c.itemId();
                allCategories[n * candidates + i] = c.categoryId();
            }
        }
        long cpu0 = threads.getCurrentThreadCpuTime();
        for (int n = 0; n < requests; n++) {
            System.arraycopy(allItems, n * candidates, items, 0, candidates);
            System.arraycopy(allCategories, n * candidates, categories, 0, candidates);
            states[who[n]].score(scorer, SyntheticWorld.id(who[n]), items, categories, candidates, Semantics.STREAMING, ctr);
            sink += ctr[0];
        }
        long cpu = threads.getCurrentThreadCpuTime() - cpu0;
        if (Float.isNaN(sink)) { // keeps the scores live for the JIT; a NaN CTR would be a bug anyway
            throw new IllegalStateException("NaN score in the CPU measurement");
        }
        return new Cpu(requests == 0 ? 0 : cpu / 1e3 / requests, window, requests);
    }

    /** One request as the generator makes it (a random user, candidates drawn for that user); returns its first CTR. */
    private static float scoreOne(DienScorer scorer, SyntheticWorld world, InterestState[] states, long[] items,
                                  long[] categories, float[] ctr) {
        int u = world.randomUser();
        for (int i = 0; i < items.length; i++) {
            SyntheticWorld.Candidate c = world.candidate(u);
            items[i] = c.itemId();
            categories[i] = c.categoryId();
        }
        states[u].score(scorer, SyntheticWorld.id(u), items, categories, items.length, Semantics.STREAMING, ctr);
        return ctr[0];
    }

    /**
     * Measures on the calling thread.
     *
     * @param world a fresh world of the generator's seed (it is advanced)
     * @param clicks clicks to replay into the users' windows before measuring
     * @param candidates candidates per request
     * @param warmUp scoring before the measured part (lets C2 compile the kernels); at least
     *     {@value #WARM_UP_REQUESTS} requests are scored before measuring, unless that takes a minute
     * @param duration the measured part
     */
    public static Result measure(DienModel model, SyntheticWorld world, long clicks, int candidates,
                                 Duration warmUp, Duration duration) {
        DienScorer scorer = model.newScorer();
        InterestState[] users = new InterestState[world.users()];
        for (long i = 0; i < clicks; i++) {
            int u = world.randomUser();
            SyntheticWorld.Click c = world.click(u);
            InterestState s = users[u];
            if (s == null) {
                s = users[u] = scorer.newState();
            }
            s.append(scorer, c.itemId(), c.categoryId());
        }
        InterestState empty = scorer.newState();
        long[] items = new long[candidates];
        long[] categories = new long[candidates];
        float[] ctr = new float[candidates];
        long windowSum = 0;
        long n = 0;
        long t0 = 0;
        long start = System.nanoTime();
        long end = Long.MAX_VALUE;
        float sink = 0;
        while (true) {
            long now = System.nanoTime();
            if (now >= end) {
                break;
            }
            // Until C2 has compiled the kernels the Vector API runs a hundred times slower: warm up for
            // the given time and at least WARM_UP_REQUESTS requests (capped, on a very busy machine).
            if (t0 == 0 && ((now - start >= warmUp.toNanos() && n >= WARM_UP_REQUESTS) || now - start >= MAX_WARM_UP_NS)) {
                t0 = now;
                end = t0 + duration.toNanos();
                n = 0;
                windowSum = 0;
            }
            // one request as the generator makes it: a random user, candidates drawn for that user
            int u = world.randomUser();
            for (int i = 0; i < candidates; i++) {
                SyntheticWorld.Candidate c = world.candidate(u);
                items[i] = c.itemId();
                categories[i] = c.categoryId();
            }
            InterestState s = users[u] != null ? users[u] : empty;
            s.score(scorer, SyntheticWorld.id(u), items, categories, candidates, Semantics.STREAMING, ctr);
            sink += ctr[0];
            windowSum += s.windowLength();
            n++;
        }
        if (Float.isNaN(sink)) { // keeps the scores live for the JIT; a NaN CTR would be a bug anyway
            throw new IllegalStateException("NaN score in the capacity measurement");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Result(n / seconds, n == 0 ? 0 : windowSum / (double) n, n, seconds);
    }
}

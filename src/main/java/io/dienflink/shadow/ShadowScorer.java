package io.dienflink.shadow;

import io.dienflink.avro.CtrScore;
import io.dienflink.model.DienModel;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The challenger operator's function: scores each handed-off request with bundle B
 * ({@link WindowedChallenger}) on a bounded executor of its own, so the operator's task thread
 * never waits for B. Run under {@code AsyncDataStream.unorderedWait} with a capacity above the
 * executor's queue plus threads, so the operator never blocks for capacity either: it always takes
 * its input at once, its input channels never fill, and the scorer upstream is never
 * back-pressured by the challenger.
 *
 * <p>What B does not score is counted, never waited for and never a failure:
 * {@code shadowDropped} (the executor's queue was full: the request is not scored),
 * {@code shadowFailed} (B threw; logged at most every 10 s with the count), {@code shadowTimedOut}
 * (not scored within the operator's timeout). {@code shadowScored} counts scores emitted,
 * {@code shadowCpuNanos} the challenger threads' CPU time spent scoring them, {@code shadowQueued}
 * (gauge) the requests waiting. Every handed-off request ends in exactly one of scored, dropped,
 * failed or timed out (a timed-out request still being scored is counted as timed out only).
 */
public class ShadowScorer extends RichAsyncFunction<ShadowRequest, CtrScore> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ShadowScorer.class);
    private static final long FAILURE_LOG_INTERVAL_NS = TimeUnit.SECONDS.toNanos(10);
    private static final int WARM_UP_ROUNDS = 400;
    private static final long WARM_UP_MS = 20_000;
    /** One B per bundle path per TaskManager (per job class loader); each thread has its own scorer. */
    private static final ConcurrentHashMap<String, DienModel> MODELS = new ConcurrentHashMap<>();

    private final String modelPath;
    private final String expectedFingerprint;
    private final int threads;
    private final int queue;

    private transient ThreadPoolExecutor executor;
    private transient ThreadLocal<WindowedChallenger> challengers;
    private transient DienModel model;
    private transient ThreadMXBean cpu;
    private transient AtomicCounter scored;
    private transient AtomicCounter dropped;
    private transient AtomicCounter failed;
    private transient AtomicCounter timedOut;
    private transient AtomicCounter cpuNanos;
    private transient AtomicLong lastFailureLog;
    private transient AtomicLong failuresSinceLog;

    /**
     * @param modelPath bundle B, at the same path on every TaskManager
     * @param expectedFingerprint B's fingerprint as validated at submission, or null to accept any
     * @param threads challenger threads per subtask
     * @param queue requests waiting for a thread, at most; more are dropped and counted
     */
    public ShadowScorer(String modelPath, String expectedFingerprint, int threads, int queue) {
        if (threads < 1 || queue < 1) {
            throw new IllegalArgumentException("threads and queue must be positive: " + threads + ", " + queue);
        }
        this.modelPath = modelPath;
        this.expectedFingerprint = expectedFingerprint;
        this.threads = threads;
        this.queue = queue;
    }

    /** The operator capacity to run this function with: no element ever waits for a free slot. */
    public int operatorCapacity() {
        return queue + threads + 64;
    }

    @Override
    public void open(OpenContext openContext) {
        model = MODELS.computeIfAbsent(modelPath, p -> DienModel.load(Path.of(p)));
        if (expectedFingerprint != null && !expectedFingerprint.equals(model.fingerprint())) {
            throw new IllegalStateException("dien.shadow.model: the bundle at " + modelPath + " on this TaskManager has "
                    + "fingerprint " + model.fingerprint() + ", but the job was submitted with " + expectedFingerprint
                    + ": every TaskManager must see the same bundle");
        }
        challengers = ThreadLocal.withInitial(() -> new WindowedChallenger(model));
        cpu = ManagementFactory.getThreadMXBean();
        MetricGroup m = getRuntimeContext().getMetricGroup();
        scored = m.counter("shadowScored", new AtomicCounter());
        dropped = m.counter("shadowDropped", new AtomicCounter());
        failed = m.counter("shadowFailed", new AtomicCounter());
        timedOut = m.counter("shadowTimedOut", new AtomicCounter());
        cpuNanos = m.counter("shadowCpuNanos", new AtomicCounter());
        lastFailureLog = new AtomicLong(System.nanoTime() - FAILURE_LOG_INTERVAL_NS);
        failuresSinceLog = new AtomicLong();
        AtomicInteger n = new AtomicInteger();
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queue), r -> {
            Thread t = new Thread(r, "shadow-challenger-" + subtask + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        m.gauge("shadowQueued", (Gauge<Integer>) () -> executor.getQueue().size());
        // B's kernels run on the slow JIT tiers until C2 has compiled them (a hundred times slower):
        // warm them on the challenger's own thread, so the task thread starts taking requests at
        // once; requests arriving meanwhile wait in the queue or are dropped and counted.
        executor.execute(() -> WindowedChallenger.warmUp(challengers.get(), WARM_UP_ROUNDS, WARM_UP_MS));
        LOG.info("Shadow challenger {} ({}) on {} thread(s), hand-off queue {}", model.modelVersion(), model.fingerprint(),
                threads, queue);
    }

    @Override
    public void asyncInvoke(ShadowRequest request, ResultFuture<CtrScore> result) {
        try {
            executor.execute(() -> run(request, result));
        } catch (RejectedExecutionException e) {
            dropped.inc();
            result.complete(List.of());
        }
    }

    private void run(ShadowRequest request, ResultFuture<CtrScore> result) {
        long cpuStart = cpu.getCurrentThreadCpuTime();
        CtrScore score;
        try {
            score = score(request);
        } catch (Throwable t) { // a broken challenger must never fail the serving job
            failed.inc();
            logFailure(request, t);
            result.complete(List.of());
            return;
        } finally {
            cpuNanos.inc(cpu.getCurrentThreadCpuTime() - cpuStart);
        }
        scored.inc();
        result.complete(List.of(score));
    }

    /** B's score of one request; runs on a challenger thread. Tests override it to slow or break B. */
    protected CtrScore score(ShadowRequest request) {
        return challengers.get().score(request, System.currentTimeMillis());
    }

    @Override
    public void timeout(ShadowRequest request, ResultFuture<CtrScore> result) {
        timedOut.inc();
        result.complete(List.of());
    }

    private void logFailure(ShadowRequest request, Throwable t) {
        long count = failuresSinceLog.incrementAndGet();
        long now = System.nanoTime();
        long last = lastFailureLog.get();
        if (now - last >= FAILURE_LOG_INTERVAL_NS && lastFailureLog.compareAndSet(last, now)) {
            failuresSinceLog.addAndGet(-count);
            LOG.warn("Shadow challenger failed on request {} of user {} ({} failure(s) since the last report; "
                    + "counted in shadowFailed, serving is not affected)", request.requestId(), request.userId(), count, t);
        }
    }

    /** What became of the handed-off requests so far, in this subtask (the metrics' values). */
    record Outcomes(long scored, long dropped, long failed, long timedOut) {}

    Outcomes outcomes() {
        return new Outcomes(scored.getCount(), dropped.getCount(), failed.getCount(), timedOut.getCount());
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    /** A counter the challenger threads and the task thread update concurrently. */
    static final class AtomicCounter implements Counter {
        private final LongAdder value = new LongAdder();

        @Override
        public void inc() {
            value.increment();
        }

        @Override
        public void inc(long n) {
            value.add(n);
        }

        @Override
        public void dec() {
            value.decrement();
        }

        @Override
        public void dec(long n) {
            value.add(-n);
        }

        @Override
        public long getCount() {
            return value.sum();
        }
    }
}

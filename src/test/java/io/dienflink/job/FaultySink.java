package io.dienflink.job;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.kafka.sink.TwoPhaseCommittingStatefulSink;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.SupportsPostCommitTopology;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka sink with faults injected into its writer: the real sink's writer, committer, writer
 * state and post-commit topology, with a failure thrown once at a chosen point. The scores sink is
 * chained to the scorer, so a fault in its writer fails the scorer's task mid-stream; a fault in
 * {@link StatefulSinkWriterHook#snapshotState} fails a checkpoint.
 *
 * <p>The faults live in a static registry ({@link Faults}): the MiniCluster runs in this JVM and a
 * restarted task gets a fresh deserialized copy of this sink, so only static state can remember
 * that a fault already fired (the pattern Flink's own failure ITCases use). The sink carries the
 * names of its faults; each test arms its own.
 */
final class FaultySink<IN, S, C> implements TwoPhaseCommittingStatefulSink<IN, S, C>, SupportsPostCommitTopology<C> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(FaultySink.class);

    /** Where a writer can fail. */
    enum Point { WRITE, SNAPSHOT }

    private final TwoPhaseCommittingStatefulSink<IN, S, C> delegate;
    /** Names this sink's writers report their creation under (see {@link Faults#writersCreated}). */
    private final String sinkName;
    private final List<String> faults;

    /**
     * @param sink the Kafka sink (it must be a two-phase-committing stateful one, as {@code KafkaSink} is)
     * @param faults names of faults armed with {@link Faults#arm}; none: a pass-through that records writer starts
     */
    @SuppressWarnings("unchecked")
    static <T> Sink<T> wrap(Sink<T> sink, String sinkName, String... faults) {
        return new FaultySink<>((TwoPhaseCommittingStatefulSink<T, Object, Object>) sink, sinkName, List.of(faults));
    }

    private FaultySink(TwoPhaseCommittingStatefulSink<IN, S, C> delegate, String sinkName, List<String> faults) {
        this.delegate = delegate;
        this.sinkName = sinkName;
        this.faults = faults;
    }

    @Override
    public PrecommittingStatefulSinkWriter<IN, S, C> createWriter(WriterInitContext context) throws IOException {
        Faults.writerCreated(sinkName);
        return new StatefulSinkWriterHook<>(delegate.createWriter(context), faults);
    }

    @Override
    public PrecommittingStatefulSinkWriter<IN, S, C> restoreWriter(WriterInitContext context, Collection<S> state)
            throws IOException {
        Faults.writerCreated(sinkName);
        return new StatefulSinkWriterHook<>(delegate.restoreWriter(context, state), faults);
    }

    @Override
    public SimpleVersionedSerializer<S> getWriterStateSerializer() {
        return delegate.getWriterStateSerializer();
    }

    @Override
    public Committer<C> createCommitter(CommitterInitContext context) throws IOException {
        return delegate.createCommitter(context);
    }

    @Override
    public SimpleVersionedSerializer<C> getCommittableSerializer() {
        return delegate.getCommittableSerializer();
    }

    @Override
    @SuppressWarnings("unchecked")
    public void addPostCommitTopology(DataStream<CommittableMessage<C>> committables) {
        if (delegate instanceof SupportsPostCommitTopology<?> p) {
            ((SupportsPostCommitTopology<C>) p).addPostCommitTopology(committables);
        }
    }

    /** The real writer, with the faults checked before each call they are armed for. */
    static final class StatefulSinkWriterHook<IN, S, C> implements PrecommittingStatefulSinkWriter<IN, S, C> {
        private final PrecommittingStatefulSinkWriter<IN, S, C> writer;
        private final List<String> faults;

        StatefulSinkWriterHook(PrecommittingStatefulSinkWriter<IN, S, C> writer, List<String> faults) {
            this.writer = writer;
            this.faults = faults;
        }

        @Override
        public void write(IN element, Context context) throws IOException, InterruptedException {
            Faults.reach(faults, Point.WRITE);
            writer.write(element, context);
        }

        @Override
        public void flush(boolean endOfInput) throws IOException, InterruptedException {
            writer.flush(endOfInput);
        }

        @Override
        public List<S> snapshotState(long checkpointId) throws IOException {
            Faults.reach(faults, Point.SNAPSHOT);
            return writer.snapshotState(checkpointId);
        }

        @Override
        public Collection<C> prepareCommit() throws IOException, InterruptedException {
            return writer.prepareCommit();
        }

        @Override
        public void close() throws Exception {
            writer.close();
        }
    }

    /**
     * The JVM-wide fault registry. A fault fires once, at the {@code after}-th time its point is
     * reached once its prerequisite (if any) has fired, so several faults of one run happen in order,
     * each after the job recovered from the one before.
     */
    static final class Faults {
        private static final Map<String, Fault> ARMED = new ConcurrentHashMap<>();
        private static final Map<String, List<Long>> WRITERS = new ConcurrentHashMap<>();

        /** One armed fault and what happened to it. */
        static final class Fault {
            final String name;
            final Point point;
            final long after;
            final String prerequisite;
            final AtomicLong reached = new AtomicLong();
            final AtomicBoolean fired = new AtomicBoolean();
            volatile long firedAt;

            Fault(String name, Point point, long after, String prerequisite) {
                this.name = name;
                this.point = point;
                this.after = after;
                this.prerequisite = prerequisite;
            }

            boolean fired() {
                return fired.get();
            }
        }

        private Faults() {}

        /**
         * Arms a fault (replacing one of the same name).
         *
         * @param prerequisite the fault that must have fired before this one counts, or null
         */
        static Fault arm(String name, Point point, long after, String prerequisite) {
            Fault f = new Fault(name, point, after, prerequisite);
            ARMED.put(name, f);
            return f;
        }

        static void writerCreated(String sinkName) {
            WRITERS.computeIfAbsent(sinkName, n -> new CopyOnWriteArrayList<>()).add(System.currentTimeMillis());
        }

        /** When writers of the sink were created or restored (ms), in order. */
        static List<Long> writersCreated(String sinkName) {
            return WRITERS.getOrDefault(sinkName, List.of());
        }

        static void reach(List<String> names, Point point) throws IOException {
            for (String name : names) {
                Fault f = ARMED.get(name);
                if (f == null || f.point != point || f.fired.get()) {
                    continue;
                }
                Fault pre = f.prerequisite == null ? null : ARMED.get(f.prerequisite);
                if (pre != null && !pre.fired.get()) {
                    continue;
                }
                if (f.reached.incrementAndGet() >= f.after && f.fired.compareAndSet(false, true)) {
                    f.firedAt = System.currentTimeMillis();
                    LOG.info("Injecting fault {} at {}", name, point);
                    throw new IOException("injected fault " + name + " at " + point);
                }
            }
        }
    }
}

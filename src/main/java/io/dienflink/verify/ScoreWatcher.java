package io.dienflink.verify;

import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.KafkaClients;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a scores topic from its beginning on a thread of its own, as a downstream consumer would
 * (committed records only, for an exactly-once job), and keeps every score with the moment it was
 * read. Runs that inject faults time recovery on it: fault → the first score scored after the fault
 * seen here ({@code local/Chaos}, the fault-injection tests).
 *
 * <p>Commits no offsets. A record that is not a score stops the watcher (the job writes nothing
 * else there); so does a failure to reach Kafka that the client does not ride out: both are logged
 * and the waits then time out.
 */
public final class ScoreWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ScoreWatcher.class);

    /**
     * One score read.
     *
     * @param observedAtMs when the watcher read it (epoch ms)
     * @param partition its partition of the scores topic
     */
    public record Seen(long observedAtMs, int partition, CtrScore score) {
        /** The score's {@code scored_at} (epoch ms): when the job computed it. */
        public long scoredAtMs() {
            return score.getScoredAt().toEpochMilli();
        }

        public String requestId() {
            return score.getRequestId();
        }
    }

    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * Starts reading {@code topic}.
     *
     * @param name names the consumer (its group id, made unique) and the thread
     * @param readCommitted read only committed records, as the scores of an exactly-once job become visible
     */
    public ScoreWatcher(String bootstrapServers, String topic, String name, boolean readCommitted) {
        this.topic = topic;
        this.consumer = KafkaClients.reader(bootstrapServers, new Properties(), name, true, readCommitted);
        this.thread = new Thread(this::run, "score-watcher-" + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        try (consumer) {
            consumer.subscribe(List.of(topic));
            var decoder = AvroMessages.decoder(CtrScore.class);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                    seen.add(new Seen(System.currentTimeMillis(), r.partition(), decoder.decode(r.value())));
                }
            }
        } catch (Exception e) {
            if (running) {
                LOG.warn("Score watcher of {} stopped after {} scores: {}", topic, seen.size(), e.toString());
            }
        }
    }

    /** Every score read so far, in the order read (a snapshot; later scores are appended to the watcher's list, not this one). */
    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    /** The number of scores read so far: a mark for {@link #await(int, Predicate, Duration)}. */
    public int mark() {
        return seen.size();
    }

    /** The first score read so far that matches, from the beginning. */
    public Optional<Seen> first(Predicate<Seen> which) {
        for (Seen s : seen) {
            if (which.test(s)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /**
     * Waits for the first score from position {@code from} on ({@link #mark()}) that matches;
     * empty if none was read within {@code timeout}.
     */
    public Optional<Seen> await(int from, Predicate<Seen> which, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int next = from;
        while (true) {
            List<Seen> now = seen;
            int size = now.size();
            for (int i = next; i < size; i++) {
                if (which.test(now.get(i))) {
                    return Optional.of(now.get(i));
                }
            }
            next = Math.max(next, size);
            if (System.nanoTime() > deadline) {
                return Optional.empty();
            }
            Thread.sleep(20);
        }
    }

    /** Stops reading (waits up to 5 s for the reading thread). */
    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(5_000);
    }
}

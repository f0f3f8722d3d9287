package io.dienflink.traffic;

import io.dienflink.avro.CtrScore;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Reads the score and dead-letter topics and measures end-to-end latency: the time from a
 * request's {@code event_time} (set by the producer when it sent the request) to the moment its
 * score is read back from Kafka. Runs on its own thread until {@link #close()}.
 */
public final class ScoreReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String scoresTopic;
    private final Thread thread;
    private final Recorder latency = new Recorder(3);
    private final Histogram total = new Histogram(3);
    private final AtomicLong scores = new AtomicLong();
    private final AtomicLong historyClicks = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final AtomicLong expired = new AtomicLong();
    /** Request ids (not probes) with at least one score: at-least-once may deliver a score twice. */
    private final java.util.Set<String> scoredRequests = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final org.apache.avro.message.BinaryMessageDecoder<io.dienflink.avro.AdRequest> requestDecoder =
            io.dienflink.kafka.AvroMessages.decoder(io.dienflink.avro.AdRequest.class);
    private final org.apache.avro.message.BinaryMessageDecoder<io.dienflink.avro.DeadLetter> deadLetterDecoder =
            io.dienflink.kafka.AvroMessages.decoder(io.dienflink.avro.DeadLetter.class);
    private final java.util.Set<String> probes = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final org.apache.avro.message.BinaryMessageDecoder<CtrScore> scoreDecoder =
            io.dienflink.kafka.AvroMessages.decoder(CtrScore.class);
    private final java.util.List<FirstScore> watches = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean running = true;

    /** Requests whose id starts with this are probes: awaited, not counted. */
    public static final String PROBE_PREFIX = "probe-";

    /** Waits until the score of probe {@code requestId} has been read; false on timeout. */
    public boolean awaitProbe(String requestId, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (probes.contains(requestId)) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    /**
     * @param readCommitted read only committed records, as the scores of an exactly-once job become visible
     */
    public ScoreReader(String bootstrapServers, Topics topics, boolean readCommitted) {
        this(bootstrapServers, new Properties(), topics, true, readCommitted);
    }

    /**
     * @param client pass-through Kafka client settings (SASL, SSL, …), as the job takes them
     * @param fromBeginning read the topics from their start; else only records written from now on
     * @param readCommitted read only committed records, as the scores of an exactly-once job become visible
     */
    public ScoreReader(String bootstrapServers, Properties client, Topics topics, boolean fromBeginning, boolean readCommitted) {
        this.consumer = KafkaClients.reader(bootstrapServers, client, "dien-score-reader", fromBeginning, readCommitted);
        this.consumer.subscribe(List.of(topics.scores(), topics.deadLetters()));
        this.scoresTopic = topics.scores();
        this.thread = new Thread(this::run, "score-reader");
        this.thread.setDaemon(true);
    }

    public ScoreReader start() {
        thread.start();
        return this;
    }

    private void run() {
        try {
            poll();
        } finally {
            consumer.close();
        }
    }

    private void poll() {
        while (running) {
            long now;
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                now = System.currentTimeMillis();
                if (!r.topic().equals(scoresTopic)) {
                    deadLetters.incrementAndGet();
                    try {
                        io.dienflink.avro.DeadLetter d = deadLetterDecoder.decode(r.value());
                        // an expired probe (the job was still starting) is not traffic
                        if (io.dienflink.kafka.DeadLetterReason.EXPIRED.code().equals(d.getReason())
                                && !requestDecoder.decode(d.getPayload()).getRequestId().startsWith(PROBE_PREFIX)) {
                            expired.incrementAndGet();
                        }
                    } catch (Exception e) {
                        // not a dead letter: counted as one all the same, the job writes nothing else there
                    }
                    continue;
                }
                try {
                    CtrScore s = scoreDecoder.decode(r.value());
                    for (FirstScore w : watches) {
                        w.offer(s.getRequestTime().toEpochMilli(), s.getModelFingerprint(), now);
                    }
                    if (s.getRequestId().startsWith(PROBE_PREFIX)) {
                        probes.add(s.getRequestId());
                        continue;
                    }
                    latency.recordValue(Math.max(0, now - s.getRequestTime().toEpochMilli()));
                    historyClicks.addAndGet(s.getHistoryLength());
                    scores.incrementAndGet();
                    scoredRequests.add(s.getRequestId());
                } catch (Exception e) {
                    // not a score: counted nowhere, the job only writes scores here
                }
            }
        }
    }

    /**
     * From now on, offers every score read (probes and traffic alike) to a new {@link FirstScore}
     * and returns it: the first score of a request sent at or after {@code sentFromMs} (epoch ms),
     * carrying model {@code fingerprint} (null: any).
     */
    public FirstScore watchFirstScore(long sentFromMs, String fingerprint) {
        FirstScore w = new FirstScore(sentFromMs, fingerprint);
        watches.add(w);
        return w;
    }

    public long scores() {
        return scores.get();
    }

    /** The history lengths of all scores read (not probes), summed: with {@link #scores()}, the mean window scored against. */
    public long historyClicks() {
        return historyClicks.get();
    }

    public long deadLetters() {
        return deadLetters.get();
    }

    /** Dead letters with reason {@code expired} (probes not counted): valid requests too old to score when they reached the scorer. */
    public long expired() {
        return expired.get();
    }

    /** Distinct requests (not probes) with at least one score. */
    public long scoredRequests() {
        return scoredRequests.size();
    }

    /** Latencies recorded since the previous call (for a live status line); they also join the total. */
    public synchronized Histogram interval() {
        Histogram h = latency.getIntervalHistogram();
        total.add(h);
        return h;
    }

    /** Forgets the latencies recorded so far: {@link #total()} counts from here (after a warm-up). */
    public synchronized void resetTotal() {
        latency.getIntervalHistogram();
        total.reset();
    }

    /** All latencies recorded so far (since {@link #resetTotal()}, if called). */
    public synchronized Histogram total() {
        interval();
        return total.copy();
    }

    @Override
    public void close() throws InterruptedException {
        if (thread.getState() == Thread.State.NEW) {
            consumer.close(); // never started: the reader thread, which otherwise closes it, never will
            return;
        }
        running = false;
        thread.join(10_000);
    }
}

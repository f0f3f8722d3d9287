package io.dienflink.job;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.ModelBundle;
import io.dienflink.verify.CatchUp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The traffic of one fault-injection run: a fixed, seeded sequence of clicks for a few hundred users
 * (with producer-retry duplicates: the same event sent again a few records later), ad requests
 * interleaved, and a few malformed records of both kinds, sent at a steady pace on a thread of its
 * own so that it flows while a fault is injected. The sequence depends only on the seed; the pace
 * only decides where in it a fault lands.
 *
 * <p>The producer is idempotent and retries for two minutes, so a broker outage delays records but
 * neither loses nor repeats them: every duplicate on the topics is one of the deliberate ones.
 */
final class FaultTraffic implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FaultTraffic.class);
    static final int USERS = 200;
    static final int CLICKS = 2_000;
    static final int REQUESTS = 300;
    /** An undecodable record: an Avro header with no record after it. */
    static final byte[] MALFORMED = CatchUp.malformedRecord();

    private final List<ProducerRecord<byte[], byte[]>> records;
    private final KafkaProducer<byte[], byte[]> producer;
    private final long durationMs;
    private final Thread thread;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean paused;
    private volatile boolean stopped;

    /**
     * @param runId prefix of every event and request id, unique per run
     * @param durationMs how long sending the whole sequence takes (pauses not counted)
     */
    FaultTraffic(String bootstrapServers, Topics topics, String runId, long seed, long durationMs) {
        this.records = sequence(topics, runId, seed);
        this.durationMs = durationMs;
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("enable.idempotence", "true");
        p.put("acks", "all");
        p.put("linger.ms", "5");
        // ride out a stopped broker: keep retrying instead of failing the records
        p.put("delivery.timeout.ms", "120000");
        p.put("max.block.ms", "120000");
        this.producer = new KafkaProducer<>(p);
        this.thread = new Thread(this::run, "fault-traffic-" + runId);
        this.thread.setDaemon(true);
    }

    private static List<ProducerRecord<byte[], byte[]>> sequence(Topics topics, String runId, long seed) {
        ModelBundle bundle = GoldenCases.bundle("official");
        long[] items = bundle.longs("vocab.item");
        long[] categories = bundle.longs("vocab.category");
        SplittableRandom rnd = new SplittableRandom(seed);
        long now = System.currentTimeMillis();
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> retries = new ArrayList<>();
        int requestEvery = CLICKS / REQUESTS;
        for (int c = 0; c < CLICKS; c++) {
            long user = 1 + rnd.nextInt(USERS);
            byte[] key = UserKeys.key(user);
            // one in ten items outside the vocabulary: the model's unknown-item path
            long item = rnd.nextInt(10) == 0 ? 4_242_424L : items[rnd.nextInt(items.length)];
            long category = categories[rnd.nextInt(categories.length)];
            ProducerRecord<byte[], byte[]> click = new ProducerRecord<>(topics.clicks(), key, AvroMessages.encode(
                    new ClickEvent(runId + "-c" + c, user, item, category, Instant.ofEpochMilli(now))));
            out.add(click);
            out.addAll(retries);
            retries.clear();
            if (rnd.nextInt(12) == 0) { // a producer retry: the same event again, after the next click
                retries.add(click);
            }
            if (c % 97 == 13) {
                out.add(new ProducerRecord<>(topics.clicks(), key, MALFORMED));
            }
            if (c % requestEvery == 0) {
                long u = 1 + rnd.nextInt(USERS);
                int n = 1 + rnd.nextInt(6);
                List<Candidate> cand = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    cand.add(new Candidate(items[rnd.nextInt(items.length)], categories[rnd.nextInt(categories.length)]));
                }
                boolean malformed = c % (requestEvery * 23) == 0;
                out.add(new ProducerRecord<>(topics.requests(), UserKeys.key(u), AvroMessages.encode(new AdRequest(
                        runId + "-r" + c, u, Instant.ofEpochMilli(now), malformed ? List.of() : cand))));
            }
        }
        out.addAll(retries);
        return out;
    }

    FaultTraffic start() {
        thread.start();
        return this;
    }

    private void run() {
        long pauseMs = 0;
        long start = System.currentTimeMillis();
        for (int i = 0; i < records.size() && !stopped; i++) {
            while (paused && !stopped) {
                long p0 = System.currentTimeMillis();
                sleep(20);
                pauseMs += System.currentTimeMillis() - p0;
            }
            long due = start + pauseMs + durationMs * i / records.size();
            long wait = due - System.currentTimeMillis();
            if (wait > 0) {
                sleep(wait);
            }
            producer.send(records.get(i), (md, e) -> {
                if (e != null && failed.getAndIncrement() == 0) {
                    LOG.warn("Fault traffic: a record was not accepted: {}", e.toString());
                }
            });
            sent.incrementAndGet();
        }
        producer.flush();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Share of the sequence handed to the producer, 0 to 1. */
    double progress() {
        return sent.get() / (double) records.size();
    }

    /** Blocks until the share {@code fraction} of the sequence has been handed to the producer. */
    void awaitProgress(double fraction) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 180_000;
        while (progress() < fraction) {
            if (System.currentTimeMillis() > deadline || !thread.isAlive()) {
                throw new AssertionError("traffic stuck at " + progress());
            }
            Thread.sleep(10);
        }
    }

    /** Stops sending (records already handed over are still delivered) until {@link #resume}. */
    void pause() {
        paused = true;
    }

    void resume() {
        paused = false;
    }

    /** Waits for every record to be sent and acknowledged; fails if Kafka refused any. */
    void awaitDone() throws InterruptedException {
        thread.join(180_000);
        if (thread.isAlive()) {
            throw new AssertionError("traffic not done after 3 minutes, at " + progress());
        }
        if (failed.get() > 0) {
            throw new AssertionError(failed.get() + " traffic records were not accepted by Kafka");
        }
    }

    int records() {
        return records.size();
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        thread.join(10_000);
        producer.close();
    }
}

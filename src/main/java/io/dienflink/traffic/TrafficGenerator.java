package io.dienflink.traffic;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces synthetic clicks and ad requests from a {@link SyntheticWorld} to Kafka at the given
 * rates (0 = as fast as possible), keyed by user id, with an optional fraction of malformed
 * records so that the dead-letter path is exercised. Runs on its own thread until {@link #close()}.
 */
public final class TrafficGenerator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TrafficGenerator.class);

    /**
     * @param clicksPerSecond 0 for no limit
     * @param requestsPerSecond 0 for no limit
     * @param malformedFraction share of records replaced by an undecodable or invalid one
     * @param maxClicks stop producing clicks after this many (Long.MAX_VALUE: never)
     */
    public record Rates(double clicksPerSecond, double requestsPerSecond, int candidatesPerRequest,
                        double malformedFraction, long maxClicks, long maxRequests) {}

    private final KafkaProducer<byte[], byte[]> producer;
    private final Topics topics;
    private final SyntheticWorld world;
    private final Rates rates;
    private final Thread thread;
    private final AtomicLong clicks = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong malformedRequests = new AtomicLong();
    /** Which records are malformed; used by the sending thread only, fixed seed so runs repeat. */
    private final java.util.SplittableRandom noise = new java.util.SplittableRandom(0x5EEDL);
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean running = true;
    /** Requests are sent only while this says yes (a closed-loop load: see {@link #gateRequests}). */
    private volatile java.util.function.BooleanSupplier requestGate = () -> true;
    private volatile RequestUsers requestUsers = RequestUsers.UNIFORM;
    /** The users' clicks on requested candidates, or null (off: the traffic is as before the response model). */
    private volatile ResponseModel responses;
    /** Response clicks waiting for their time, soonest first; the sending thread's only. */
    private final java.util.PriorityQueue<ResponseModel.Response> dueResponses =
            new java.util.PriorityQueue<>(java.util.Comparator.comparingLong(ResponseModel.Response::time));
    private final AtomicLong responseClicks = new AtomicLong();

    /** A generator for an unsecured cluster (the embedded one). */
    public TrafficGenerator(String bootstrapServers, Topics topics, SyntheticWorld world, Rates rates) {
        this(bootstrapServers, new Properties(), topics, world, rates);
    }

    /** @param client pass-through Kafka client settings (SASL, SSL, …), as the job takes them */
    public TrafficGenerator(String bootstrapServers, Properties client, Topics topics, SyntheticWorld world, Rates rates) {
        this.producer = KafkaClients.trafficProducer(bootstrapServers, client);
        this.topics = topics;
        this.world = world;
        this.rates = rates;
        this.thread = new Thread(this::run, "traffic-generator");
        this.thread.setDaemon(true);
    }

    /**
     * Sends one valid request with the given id, outside the counted traffic; a reader that sees its
     * score knows the job is up and warm.
     */
    public void probe(String requestId) {
        SyntheticWorld.Candidate c = world.candidate(0);
        byte[] value = AvroMessages.encode(new AdRequest(requestId, SyntheticWorld.id(0),
                Instant.ofEpochMilli(System.currentTimeMillis()), List.of(new Candidate(c.itemId(), c.categoryId()))));
        send(topics.requests(), SyntheticWorld.id(0), value);
        producer.flush();
    }

    /**
     * Sends one valid request with the given id for user {@code SyntheticWorld.id(userIndex)}, with
     * one fixed candidate (item and category index 0), outside the counted traffic. Unlike
     * {@link #probe(String)} it draws nothing from the world, so any thread may call it while the
     * generator runs; it does not flush.
     */
    public void probe(String requestId, int userIndex) {
        long user = SyntheticWorld.id(userIndex);
        byte[] value = AvroMessages.encode(new AdRequest(requestId, user, Instant.ofEpochMilli(System.currentTimeMillis()),
                List.of(new Candidate(SyntheticWorld.id(0), SyntheticWorld.id(0)))));
        send(topics.requests(), user, value);
    }

    /** Sends what {@link #probe(String, int)} buffered. */
    public void flush() {
        producer.flush();
    }

    /**
     * Sends the requests of {@link #start()}'s traffic to these users (default
     * {@link RequestUsers#UNIFORM}); clicks are not affected. Set before {@link #start()}.
     */
    public TrafficGenerator requestUsers(RequestUsers users) {
        this.requestUsers = java.util.Objects.requireNonNull(users);
        return this;
    }

    /**
     * Sends requests (at most at the configured rate) only while {@code gate} is true, e.g. while
     * fewer than N requests are waiting for their scores: a load that keeps the job busy without
     * building a backlog that would take minutes to work off. Set before {@link #start()}.
     */
    public TrafficGenerator gateRequests(java.util.function.BooleanSupplier gate) {
        this.requestGate = gate;
        return this;
    }

    /**
     * Sends {@code clicksPerUser} clicks of every user of the world, one user after another in
     * rounds (user 0, 1, …, then again), as fast as Kafka takes them, on the calling thread; returns
     * when all were sent and flushed. Fills the job's state with full windows (clicksPerUser at least
     * the model's T) for measurements at a given number of users, without hours of random traffic.
     * Event ids ({@code fill-<user>-<k>}) do not collide with those of {@link #start()}'s traffic.
     * Counted in {@link #clicks()}; not to be mixed with a running {@link #start()}.
     */
    public void fill(int clicksPerUser) {
        for (int k = 0; k < clicksPerUser && running; k++) {
            for (int u = 0; u < world.users() && running; u++) {
                SyntheticWorld.Click c = world.click(u);
                send(topics.clicks(), c.userId(), AvroMessages.encode(new ClickEvent("fill-" + u + "-" + k, c.userId(),
                        c.itemId(), c.categoryId(), Instant.ofEpochMilli(System.currentTimeMillis()))));
                clicks.incrementAndGet();
            }
        }
        producer.flush();
    }

    /**
     * Turns the response model on: for each valid request sent, the user clicks each candidate with
     * its true probability after the model's delay; the click goes to the clicks topic at that time
     * (event time = request time + delay), like any other click, so it also becomes the user's history.
     * It does not move the world's interest walk, and is not counted in {@link #clicks()} (so click
     * budgets and rates keep their meaning) but in {@link #responseClicks()}. Set before {@link #start()}.
     */
    public TrafficGenerator respond(ResponseModel model) {
        this.responses = java.util.Objects.requireNonNull(model);
        return this;
    }

    /** Clicks the response model sent. */
    public long responseClicks() {
        return responseClicks.get();
    }

    public TrafficGenerator start() {
        thread.start();
        return this;
    }

    public long clicks() {
        return clicks.get();
    }

    public long requests() {
        return requests.get();
    }

    /** Malformed records sent, clicks and requests. */
    public long malformed() {
        return malformed.get();
    }

    /** Records Kafka did not accept (the first failure is logged); they are counted as sent too. */
    public long failed() {
        return failed.get();
    }

    /** Requests sent that the job will score (the malformed ones are dead-lettered). */
    public long validRequests() {
        return requests.get() - malformedRequests.get();
    }

    /** True once both click and request budgets are spent. */
    public boolean finished() {
        return clicks.get() >= rates.maxClicks() && requests.get() >= rates.maxRequests();
    }

    private void run() {
        long start = System.nanoTime();
        long seq = 0;
        while (running && (!finished() || !dueResponses.isEmpty())) {
            sendDueResponses(System.currentTimeMillis());
            double elapsed = (System.nanoTime() - start) / 1e9;
            boolean clickDue = clicks.get() < rates.maxClicks()
                    && (rates.clicksPerSecond() <= 0 || clicks.get() < elapsed * rates.clicksPerSecond());
            boolean requestDue = requests.get() < rates.maxRequests()
                    && (rates.requestsPerSecond() <= 0 || requests.get() < elapsed * rates.requestsPerSecond())
                    && requestGate.getAsBoolean();
            if (!clickDue && !requestDue) {
                sleepMicros(200);
                continue;
            }
            long now = System.currentTimeMillis();
            if (clickDue) {
                sendClick(seq++, now);
            }
            if (requestDue) {
                sendRequest(seq++, now);
            }
        }
        producer.flush();
    }

    private void sendClick(long seq, long now) {
        int u = world.randomUser();
        SyntheticWorld.Click c = world.click(u);
        byte[] value;
        if (malformedNow()) {
            value = seq % 2 == 0 ? new byte[] {(byte) 0xC3, 0x01, 0x7F} // truncated: a header, no record
                    : AvroMessages.encode(new ClickEvent("", c.userId(), c.itemId(), c.categoryId(), Instant.ofEpochMilli(now)));
        } else {
            value = AvroMessages.encode(new ClickEvent("c" + seq, c.userId(), c.itemId(), c.categoryId(), Instant.ofEpochMilli(now)));
        }
        send(topics.clicks(), c.userId(), value);
        clicks.incrementAndGet();
    }

    private void sendDueResponses(long now) {
        while (!dueResponses.isEmpty() && dueResponses.peek().time() <= now) {
            ResponseModel.Response r = dueResponses.poll();
            long n = responseClicks.getAndIncrement();
            send(topics.clicks(), r.userId(), AvroMessages.encode(new ClickEvent("resp" + n, r.userId(), r.itemId(),
                    r.categoryId(), Instant.ofEpochMilli(r.time()))));
        }
    }

    private void sendRequest(long seq, long now) {
        int u = requestUsers.pick(world);
        List<Candidate> candidates = new ArrayList<>(rates.candidatesPerRequest());
        List<SyntheticWorld.Candidate> truth = new ArrayList<>(rates.candidatesPerRequest());
        for (int i = 0; i < rates.candidatesPerRequest(); i++) {
            SyntheticWorld.Candidate c = world.candidate(u);
            candidates.add(new Candidate(c.itemId(), c.categoryId()));
            truth.add(c);
        }
        long user = SyntheticWorld.id(u);
        boolean bad = malformedNow();
        if (bad) {
            malformedRequests.incrementAndGet();
        }
        // a malformed request has no candidates
        byte[] value = AvroMessages.encode(new AdRequest("r" + seq, user, Instant.ofEpochMilli(now), bad ? List.of() : candidates));
        send(topics.requests(), user, value);
        requests.incrementAndGet();
        ResponseModel model = responses;
        if (model != null && !bad) {
            dueResponses.addAll(model.respond(now, user, truth));
        }
    }

    private boolean malformedNow() {
        if (rates.malformedFraction() > 0 && noise.nextDouble() < rates.malformedFraction()) {
            malformed.incrementAndGet();
            return true;
        }
        return false;
    }

    private void send(String topic, long user, byte[] value) {
        producer.send(new ProducerRecord<>(topic, UserKeys.key(user), value), (md, e) -> {
            if (e != null && failed.getAndIncrement() == 0) {
                LOG.warn("Traffic generator could not send to {}: {}", topic, e.toString());
            }
        });
    }

    private static void sleepMicros(long micros) {
        try {
            Thread.sleep(0, (int) (micros * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops producing and flushes what was sent. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
        producer.close();
    }
}

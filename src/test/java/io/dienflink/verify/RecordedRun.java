package io.dienflink.verify;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import io.dienflink.job.DienJobConfig;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.DeadLetterReason;
import io.dienflink.kafka.DeadLetters;
import io.dienflink.local.EmbeddedKafkaCluster;
import io.dienflink.kafka.RawRecord;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.Semantics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A small run written by hand to a real broker, as a correct job would have left it: clicks (with a
 * producer retry inside the de-duplication window, a repeat beyond it, and malformed records),
 * valid and invalid requests, then the scores the model core gives (golden bundle {@code official})
 * and a dead letter per invalid record. {@link #write} writes the inputs and prepares the outputs
 * in {@link #scores} and {@link #deadLetters}; a test may break them before {@link #publish}.
 *
 * <p>The expected distinct clicks are spelled out here, not computed by the verifier's code: a
 * click re-sent within {@value #DEDUP_WINDOW} clicks is dropped, one re-sent later is applied again.
 */
public final class RecordedRun {
    /** A small window, so that the run can show a repeat that is applied again. */
    public static final int DEDUP_WINDOW = 4;

    private final EmbeddedKafkaCluster kafka;
    private final Topics topics;
    private final DienModel model;
    private final long[] users;
    private final long[] items;
    private final long[] categories;
    private final KafkaProducer<byte[], byte[]> producer;
    /** Sends not yet known to have succeeded: checked before the run is handed to a test. */
    private final List<Future<RecordMetadata>> sends = new ArrayList<>();
    /** Per user, the applied (distinct) clicks as {item, category}, oldest first. */
    private final Map<Long, List<long[]>> applied = new LinkedHashMap<>();
    private long eventTime = 1_700_000_000_000L;

    /** The scores a correct job writes, one per valid request, in request order; tests may change them. */
    public final List<CtrScore> scores = new ArrayList<>();
    /** The dead letters a correct job writes, one per invalid record; tests may change them. */
    public final List<DeadLetter> deadLetters = new ArrayList<>();
    /** Valid request records written. */
    public int validRequests;
    /** The valid request records as sent, in request order: their values and where Kafka put them. */
    private final List<byte[]> requestValues = new ArrayList<>();
    private final List<Future<RecordMetadata>> requestSends = new ArrayList<>();
    /** Invalid click and request records written. */
    public int invalidRecords;

    private RecordedRun(EmbeddedKafkaCluster kafka, Topics topics) {
        this.kafka = kafka;
        this.topics = topics;
        ModelBundle bundle = GoldenCases.bundle("official");
        this.model = DienModel.from(bundle);
        this.users = nonZero(bundle.longs("vocab.user"));
        this.items = nonZero(bundle.longs("vocab.item"));
        this.categories = nonZero(bundle.longs("vocab.category"));
        Properties p = kafka.clientProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(p);
    }

    /** Creates the run's four topics (2 partitions each, named after {@code name}) and writes its input. */
    public static RecordedRun write(EmbeddedKafkaCluster kafka, String name) throws Exception {
        Topics topics = new Topics(name + "-clicks", name + "-requests", name + "-scores", name + "-dead-letters");
        kafka.createTopics(2, topics.all());
        RecordedRun run = new RecordedRun(kafka, topics);
        run.writeInput();
        return run;
    }

    private void writeInput() throws Exception {
        long heavy = users[0];
        long light = users[1];
        long newcomer = users[2];
        // The heavy user: more distinct clicks than maxHistory (20), a retry and a late repeat.
        for (int i = 0; i < 25; i++) {
            click(heavy, "h-" + i, i, true);
            if (i == 6) {
                click(heavy, "h-5", 5, false); // producer retry: within the window, dropped
            }
            if (i == 12) {
                click(heavy, "h-1", 1, true); // 11 clicks later: beyond the window, applied again
            }
        }
        for (int i = 0; i < 3; i++) {
            click(light, "l-" + i, 30 + i, true);
        }
        invalid(topics.clicks(), UserKeys.key(light), "not avro".getBytes(), DeadLetterReason.UNDECODABLE);
        invalid(topics.clicks(), UserKeys.key(0), AvroMessages.encode(clickEvent(0, "z-0", 1)),
                DeadLetterReason.MISSING_USER_ID);

        int heavyClicks = applied.get(heavy).size();
        for (int k : new int[] {0, 10, 20, heavyClicks, heavyClicks}) {
            request(heavy, k, 3);
        }
        request(light, 1, 2);
        request(light, 3, 1);
        request(newcomer, 0, 2);
        AdRequest empty = AdRequest.newBuilder().setRequestId("r-empty").setUserId(light)
                .setEventTime(Instant.ofEpochMilli(eventTime)).setCandidates(List.of()).build();
        invalid(topics.requests(), UserKeys.key(light), AvroMessages.encode(empty), DeadLetterReason.EMPTY_CANDIDATES);
        invalid(topics.requests(), UserKeys.key(light), null, DeadLetterReason.UNDECODABLE);
        awaitSends();
    }

    /** Fails when the broker refused a record: the run would not be what the test thinks it is. */
    private void awaitSends() throws Exception {
        for (Future<RecordMetadata> f : sends) {
            f.get();
        }
        sends.clear();
    }

    /** Writes the prepared scores and dead letters (as changed by the test), keyed by user as the job does. */
    public void publish() throws Exception {
        for (CtrScore s : scores) {
            sends.add(producer.send(new ProducerRecord<>(topics.scores(), UserKeys.key(s.getUserId()), AvroMessages.encode(s))));
        }
        for (DeadLetter d : deadLetters) {
            sends.add(producer.send(new ProducerRecord<>(topics.deadLetters(), AvroMessages.encode(d))));
        }
        awaitSends();
        producer.close();
    }

    /** The run's settings as {@code -D} pairs (servers, topics, model, dedup window, guarantee). */
    public Map<String, String> settings(String deliveryGuarantee) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("dien.kafka.bootstrap-servers", kafka.bootstrapServers());
        s.put("dien.topic.clicks", topics.clicks());
        s.put("dien.topic.requests", topics.requests());
        s.put("dien.topic.scores", topics.scores());
        s.put("dien.topic.dead-letters", topics.deadLetters());
        s.put("dien.model.path", GoldenCases.bundleDir("official").toString());
        s.put("dien.click.dedup-window", Integer.toString(DEDUP_WINDOW));
        s.put("dien.delivery-guarantee", deliveryGuarantee);
        return s;
    }

    /** The job configuration of the run under the given delivery guarantee. */
    public DienJobConfig config(String deliveryGuarantee) {
        Configuration conf = new Configuration();
        settings(deliveryGuarantee).forEach(conf::setString);
        return DienJobConfig.from(conf);
    }

    /** The model's CTRs over the user's first {@code k} applied clicks, replayed from scratch. */
    private float[] expectedCtr(long user, int k, long[] candidateItems, long[] candidateCategories) {
        DienScorer scorer = model.newScorer();
        InterestState state = scorer.newState();
        for (long[] c : applied.getOrDefault(user, List.of()).subList(0, k)) {
            state.append(scorer, c[0], c[1]);
        }
        float[] ctr = new float[candidateItems.length];
        state.score(scorer, user, candidateItems, candidateCategories, candidateItems.length, Semantics.STREAMING, ctr);
        return ctr;
    }

    private void click(long user, String eventId, int itemIndex, boolean distinct) {
        ClickEvent e = clickEvent(user, eventId, itemIndex);
        sends.add(producer.send(new ProducerRecord<>(topics.clicks(), UserKeys.key(user), AvroMessages.encode(e))));
        if (distinct) {
            applied.computeIfAbsent(user, u -> new ArrayList<>()).add(new long[] {e.getItemId(), e.getCategoryId()});
        }
    }

    private ClickEvent clickEvent(long user, String eventId, int itemIndex) {
        return ClickEvent.newBuilder().setEventId(eventId).setUserId(user).setItemId(items[itemIndex % items.length])
                .setCategoryId(categories[itemIndex % categories.length]).setEventTime(Instant.ofEpochMilli(eventTime++))
                .build();
    }

    /** A valid request of {@code n} candidates and the score a correct job gives it after {@code k} clicks. */
    private void request(long user, int k, int n) {
        String id = "r-" + user + "-" + validRequests;
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            candidates.add(new Candidate(items[(7 * validRequests + 11 * i + 3) % items.length],
                    categories[(validRequests + i) % categories.length]));
        }
        AdRequest r = AdRequest.newBuilder().setRequestId(id).setUserId(user).setEventTime(Instant.ofEpochMilli(eventTime++))
                .setCandidates(candidates).build();
        byte[] value = AvroMessages.encode(r);
        Future<RecordMetadata> sent = producer.send(new ProducerRecord<>(topics.requests(), UserKeys.key(user), value));
        sends.add(sent);
        requestSends.add(sent);
        requestValues.add(value);
        validRequests++;
        scores.add(score(r, k));
    }

    /**
     * The score a correct job gives {@code request} after the user's first {@code k} distinct clicks
     * (the model core, replayed from scratch).
     */
    public CtrScore score(AdRequest request, int k) {
        long user = request.getUserId();
        long[] ci = request.getCandidates().stream().mapToLong(Candidate::getItemId).toArray();
        long[] cc = request.getCandidates().stream().mapToLong(Candidate::getCategoryId).toArray();
        float[] ctr = expectedCtr(user, k, ci, cc);
        List<CandidateScore> out = new ArrayList<>();
        for (int i = 0; i < ci.length; i++) {
            out.add(new CandidateScore(ci[i], ctr[i]));
        }
        return CtrScore.newBuilder().setRequestId(request.getRequestId()).setUserId(user)
                .setModelVersion(model.modelVersion()).setModelFingerprint(model.fingerprint()).setScores(out)
                .setHistoryLength(Math.min(k, model.config().maxHistory())).setClicksApplied(k)
                .setRequestTime(request.getEventTime()).setScoredAt(Instant.ofEpochMilli(eventTime)).build();
    }

    /**
     * The {@code expired} dead letter a job with a short {@code dien.request.max-age} writes for the
     * {@code i}-th valid request instead of its score (the score stays in {@link #scores}: a test
     * removes it, or keeps it to model a request answered twice).
     */
    public DeadLetter expiredDeadLetter(int i) throws Exception {
        RecordMetadata m = requestSends.get(i).get();
        byte[] value = requestValues.get(i);
        AdRequest r = AvroMessages.decoder(AdRequest.class).decode(value);
        return DeadLetters.of(new RawRecord(m.topic(), m.partition(), m.offset(), m.timestamp(), UserKeys.key(r.getUserId()),
                value), DeadLetterReason.EXPIRED, "written by RecordedRun", System.currentTimeMillis());
    }

    /** The user's distinct clicks in the run. */
    public int distinctClicks(long user) {
        return applied.getOrDefault(user, List.of()).size();
    }

    /** Users with at least one distinct click. */
    public int usersWithClicks() {
        return applied.size();
    }

    public Topics topics() {
        return topics;
    }

    private void invalid(String topic, byte[] key, byte[] value, DeadLetterReason reason) throws Exception {
        RecordMetadata m = producer.send(new ProducerRecord<>(topic, key, value)).get();
        invalidRecords++;
        deadLetters.add(DeadLetters.of(new RawRecord(topic, m.partition(), m.offset(), m.timestamp(), key, value), reason,
                "written by RecordedRun", System.currentTimeMillis()));
    }

    private static long[] nonZero(long[] ids) {
        return java.util.Arrays.stream(ids).filter(id -> id != 0).toArray();
    }
}

package io.dienflink.verify;

import io.dienflink.avro.CtrScore;
import io.dienflink.job.ScoreRequest;
import io.dienflink.kafka.AvroMessages;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The valid requests of a run (probes included) and the scores read for each, by request id.
 * A request id that occurs in several valid records (a producer's retry) is a request per record:
 * the job scores each, so it is owed a score per record.
 */
final class RequestLedger {
    /** One request id: the first valid record with it, how many valid records have it, and its scores as read. */
    static final class Entry {
        final ScoreRequest request;
        final boolean probe;
        int copies = 1;
        final List<CtrScore> scores = new ArrayList<>(1);
        /** Expired dead letters read for the request's records. */
        int expired;
        /**
         * For a probe: whether another probe of its user was sent after this one (it expired, or was
         * answered before the job had applied every click read): the newest probe is judged.
         */
        boolean resent;
        /** When the first score was read ({@link System#nanoTime()}), 0 before. */
        long firstScoreAtNanos;

        /** Scores and expired dead letters: each answers one record of the request. */
        int answers() {
            return scores.size() + expired;
        }

        Entry(ScoreRequest request, boolean probe) {
            this.request = request;
            this.probe = probe;
        }
    }

    private final BinaryMessageDecoder<CtrScore> decoder = AvroMessages.decoder(CtrScore.class);
    private final Map<String, Entry> requests = new LinkedHashMap<>();
    /** Where each valid request record sits: an expired dead letter names the record, not the id. */
    private final Map<DeadLetterLedger.Coordinates, Entry> byRecord = new java.util.HashMap<>();
    /** Scores for no valid request, and records of the scores topic that are not scores, one line each. */
    private final List<String> unexpected = new ArrayList<>();
    private long records;
    private long scores;
    /** Request records still owed a score: the verifier waits while this is positive. */
    private long outstanding;

    /**
     * A valid request record of the requests topic (or a probe the verifier sent), with its
     * coordinates in {@code sourceTopic}, {@code sourcePartition} and {@code sourceOffset}.
     */
    void acceptRequest(ScoreRequest request, boolean probe) {
        records++;
        outstanding++;
        Entry e = requests.get(request.requestId());
        if (e == null) {
            e = new Entry(request, probe);
            requests.put(request.requestId(), e);
        } else {
            e.copies++;
        }
        byRecord.put(new DeadLetterLedger.Coordinates(request.sourceTopic(), request.sourcePartition(),
                request.sourceOffset()), e);
    }

    /**
     * An {@code expired} dead letter for the request record at {@code c}: the job's answer when the
     * request was too old to score. False when no valid request record sits there.
     */
    boolean acceptExpired(DeadLetterLedger.Coordinates c) {
        Entry e = byRecord.get(c);
        if (e == null) {
            return false;
        }
        if (e.answers() < e.copies) {
            outstanding--;
        }
        e.expired++;
        return true;
    }

    /** Probes answered only by expired dead letters and not yet sent again, each returned once. */
    List<Entry> expiredProbes() {
        List<Entry> out = new ArrayList<>();
        for (Entry e : requests.values()) {
            if (e.probe && e.expired > 0 && e.scores.isEmpty() && !e.resent) {
                e.resent = true;
                out.add(e);
            }
        }
        return out;
    }

    /**
     * Probes whose every score shows fewer clicks applied than the user has distinct clicks (per
     * {@code distinct}), read at least {@code settleNanos} ago and not yet sent again, each returned
     * once. Such an answer is what a job still catching up on the clicks topic gives (the probe
     * overtook clicks the verifier had read: the two topics are not aligned), and what a job that
     * lost a click gives for ever: asked again until the timeout, the two are told apart.
     */
    List<Entry> laggingProbes(java.util.function.LongToIntFunction distinct, long settleNanos) {
        List<Entry> out = new ArrayList<>();
        long now = System.nanoTime();
        for (Entry e : requests.values()) {
            if (!e.probe || e.resent || e.scores.isEmpty() || now - e.firstScoreAtNanos < settleNanos) {
                continue;
            }
            int want = distinct.applyAsInt(e.request.userId());
            if (e.scores.stream().allMatch(s -> s.getClicksApplied() < want)) {
                e.resent = true;
                out.add(e);
            }
        }
        return out;
    }

    /** Whether a probe not sent again is answered only with fewer clicks applied than {@code distinct} gives. */
    boolean probesLagging(java.util.function.LongToIntFunction distinct) {
        for (Entry e : requests.values()) {
            if (e.probe && !e.resent && !e.scores.isEmpty()) {
                int want = distinct.applyAsInt(e.request.userId());
                if (e.scores.stream().allMatch(s -> s.getClicksApplied() < want)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A record of the scores topic. */
    void acceptScore(ConsumerRecord<byte[], byte[]> record) {
        scores++;
        CtrScore score;
        try {
            score = decoder.decode(record.value());
        } catch (Exception e) {
            unexpected.add("record " + coordinates(record) + " of the scores topic is not a CtrScore: " + e);
            return;
        }
        Entry e = requests.get(score.getRequestId().toString());
        if (e == null) {
            unexpected.add("score " + coordinates(record) + " for request " + score.getRequestId() + " (user "
                    + score.getUserId() + "), which is no valid request");
            return;
        }
        if (e.answers() < e.copies) {
            outstanding--;
        }
        if (e.scores.isEmpty()) {
            e.firstScoreAtNanos = System.nanoTime();
        }
        e.scores.add(score);
    }

    private static String coordinates(ConsumerRecord<?, ?> r) {
        return r.topic() + "/" + r.partition() + "@" + r.offset();
    }

    Collection<Entry> entries() {
        return requests.values();
    }

    /** Valid request records, probes included. */
    long records() {
        return records;
    }

    /** Records read from the scores topic. */
    long scores() {
        return scores;
    }

    long outstanding() {
        return outstanding;
    }

    List<String> unexpected() {
        return unexpected;
    }
}

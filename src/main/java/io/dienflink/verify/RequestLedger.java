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

        Entry(ScoreRequest request, boolean probe) {
            this.request = request;
            this.probe = probe;
        }
    }

    private final BinaryMessageDecoder<CtrScore> decoder = AvroMessages.decoder(CtrScore.class);
    private final Map<String, Entry> requests = new LinkedHashMap<>();
    /** Scores for no valid request, and records of the scores topic that are not scores, one line each. */
    private final List<String> unexpected = new ArrayList<>();
    private long records;
    private long scores;
    /** Request records still owed a score: the verifier waits while this is positive. */
    private long outstanding;

    /** A valid request record of the requests topic (or a probe the verifier sent). */
    void acceptRequest(ScoreRequest request, boolean probe) {
        records++;
        outstanding++;
        Entry e = requests.get(request.requestId());
        if (e == null) {
            requests.put(request.requestId(), new Entry(request, probe));
        } else {
            e.copies++;
        }
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
        if (e.scores.size() < e.copies) {
            outstanding--;
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

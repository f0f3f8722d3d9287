package io.dienflink.evaluate;

import io.dienflink.avro.CtrScore;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.Impression;
import io.dienflink.avro.ServingLog;
import io.dienflink.kafka.AvroMessages;

/**
 * One input record of the evaluate job, decoded from any of its topics (a Flink POJO, so that its
 * state and network serialization need no Kryo): a model's scores of a request, a click, an
 * impression or a serving-log record. Keyed by {@link #userId}; {@link #time} is its event time.
 */
public final class EvalEvent {
    public static final int SCORE = 0;
    public static final int CLICK = 1;
    public static final int IMPRESSION = 2;
    public static final int SERVING_LOG = 3;

    /** {@link #SCORE}, {@link #CLICK}, {@link #IMPRESSION} or {@link #SERVING_LOG}. */
    public int kind;
    public long userId;
    /** Event time: the request's for scores and serving-log records, the click's, the impression's. */
    public long time;
    /** The request (scores, impressions, serving log); null for clicks. */
    public String requestId;
    /** Scores only: the model's fingerprint and version, and whether it is the challenger (shadow topic). */
    public String fingerprint;
    public String modelVersion;
    public boolean challenger;
    /** Scored candidates' items in candidate order; the clicked item (one); the shown items; the log's candidates. */
    public long[] items;
    /** Scores and serving log: one per item. */
    public float[] scores;
    /** Serving log only: the record as read, written back with its labels. */
    public byte[] payload;

    public EvalEvent() {}

    /** A model's scores of one request. */
    public static EvalEvent score(CtrScore s, boolean challenger) {
        EvalEvent e = new EvalEvent();
        e.kind = SCORE;
        e.userId = s.getUserId();
        e.time = s.getRequestTime().toEpochMilli();
        e.requestId = s.getRequestId();
        e.fingerprint = s.getModelFingerprint();
        e.modelVersion = s.getModelVersion();
        e.challenger = challenger;
        int n = s.getScores().size();
        e.items = new long[n];
        e.scores = new float[n];
        for (int i = 0; i < n; i++) {
            e.items[i] = s.getScores().get(i).getItemId();
            e.scores[i] = s.getScores().get(i).getCtr();
        }
        return e;
    }

    public static EvalEvent click(ClickEvent c) {
        EvalEvent e = new EvalEvent();
        e.kind = CLICK;
        e.userId = c.getUserId();
        e.time = c.getEventTime().toEpochMilli();
        e.items = new long[] {c.getItemId()};
        return e;
    }

    public static EvalEvent impression(Impression i) {
        EvalEvent e = new EvalEvent();
        e.kind = IMPRESSION;
        e.userId = i.getUserId();
        e.time = i.getEventTime().toEpochMilli();
        e.requestId = i.getRequestId();
        e.items = i.getItemIds().stream().mapToLong(Long::longValue).toArray();
        return e;
    }

    /** A serving-log record; {@code raw} is its encoding as read (kept to write it back labelled). */
    public static EvalEvent servingLog(ServingLog log, byte[] raw) {
        EvalEvent e = new EvalEvent();
        e.kind = SERVING_LOG;
        e.userId = log.getUserId();
        e.time = log.getRequestTime().toEpochMilli();
        e.requestId = log.getRequestId();
        e.fingerprint = log.getModelFingerprint();
        e.modelVersion = log.getModelVersion();
        e.items = log.getCandidates().stream().mapToLong(c -> c.getItemId()).toArray();
        e.payload = raw;
        return e;
    }

    /** The serving-log record this event was read from. */
    ServingLog decodeServingLog() {
        try {
            return ServingLogs.DECODER.decode(payload);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Holder of the one decoder (decoders are thread-safe and not cheap). */
    private static final class ServingLogs {
        static final org.apache.avro.message.BinaryMessageDecoder<ServingLog> DECODER = AvroMessages.decoder(ServingLog.class);
    }
}

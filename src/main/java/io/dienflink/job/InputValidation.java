package io.dienflink.job;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.kafka.AvroLimits;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.DeadLetterReason;
import java.io.Serializable;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * The rules that decide whether an input record is used or dead-lettered, as plain functions of
 * the record's bytes: the job's decoders apply them, and so does the consistency checker
 * ({@code verify}), so both agree on which records are valid.
 *
 * <p>Order of checks: the raw bytes against the writer schema ({@link AvroLimits}: lengths within the
 * record, id strings at most {@code maxIdBytes} → {@code field_too_long}, anything else, such as
 * an id that is not UTF-8, → {@code undecodable}), then Avro decoding, then the field rules. Not thread-safe: one instance per
 * task.
 */
public final class InputValidation {
    /** Collections are never allowed more items than this, whatever the candidate cap says. */
    private static final int MAX_ITEMS = 100_000;

    /** The configurable bounds. */
    public record Limits(int maxIdBytes, int maxCandidates) implements Serializable {
        public Limits {
            if (maxIdBytes <= 0 || maxCandidates <= 0) {
                throw new IllegalArgumentException("limits must be positive: " + maxIdBytes + ", " + maxCandidates);
            }
        }

        public static Limits of(DienJobConfig config) {
            return new Limits(config.maxIdBytes(), config.maxCandidates());
        }
    }

    /** A record's verdict: {@code value} when valid, else the reason and a short detail. */
    public record Outcome<T>(T value, DeadLetterReason reason, String detail) {
        public boolean valid() {
            return value != null;
        }

        static <T> Outcome<T> reject(DeadLetterReason reason, String detail) {
            return new Outcome<>(null, reason, detail);
        }
    }

    private final Limits limits;
    private final AvroLimits avroLimits;
    private final BinaryMessageDecoder<ClickEvent> clickDecoder = AvroMessages.decoder(ClickEvent.class);
    private final BinaryMessageDecoder<AdRequest> requestDecoder = AvroMessages.decoder(AdRequest.class);

    public InputValidation(Limits limits) {
        this.limits = limits;
        this.avroLimits = new AvroLimits(limits.maxIdBytes(), MAX_ITEMS);
    }

    public Limits limits() {
        return limits;
    }

    /** The click in {@code value} (a Kafka record value, null for none), or why it is unusable. */
    public Outcome<Click> click(byte[] value) {
        Outcome<ClickEvent> decoded = decode(value, ClickEvent.class, clickDecoder, "a ClickEvent");
        if (!decoded.valid()) {
            return Outcome.reject(decoded.reason(), decoded.detail());
        }
        ClickEvent e = decoded.value();
        DeadLetterReason problem = e.getEventId().isBlank() ? DeadLetterReason.MISSING_EVENT_ID
                : e.getUserId() == 0 ? DeadLetterReason.MISSING_USER_ID
                : e.getItemId() == 0 ? DeadLetterReason.MISSING_ITEM_ID
                : e.getCategoryId() == 0 ? DeadLetterReason.MISSING_CATEGORY_ID
                : e.getEventTime().toEpochMilli() <= 0 ? DeadLetterReason.BAD_EVENT_TIME
                : null;
        if (problem != null) {
            return Outcome.reject(problem, "click " + e.getEventId() + " of user " + e.getUserId() + " on item "
                    + e.getItemId() + " (category " + e.getCategoryId() + ") at " + e.getEventTime().toEpochMilli());
        }
        return new Outcome<>(new Click(e.getEventId(), e.getUserId(), e.getItemId(), e.getCategoryId(),
                e.getEventTime().toEpochMilli()), null, null);
    }

    /** The request in {@code value} (a Kafka record value, null for none), or why it is unusable. */
    public Outcome<ScoreRequest> request(byte[] value) {
        return request(value, null, -1, -1, -1);
    }

    /**
     * The request in {@code value}, carrying the coordinates of the Kafka record it was read from
     * (so that a request that is not scored, e.g. expired, can be dead-lettered with them), or why
     * it is unusable.
     */
    public Outcome<ScoreRequest> request(byte[] value, String topic, int partition, long offset, long timestamp) {
        Outcome<AdRequest> decoded = decode(value, AdRequest.class, requestDecoder, "an AdRequest");
        if (!decoded.valid()) {
            return Outcome.reject(decoded.reason(), decoded.detail());
        }
        AdRequest r = decoded.value();
        List<Candidate> candidates = r.getCandidates();
        DeadLetterReason problem = r.getRequestId().isBlank() ? DeadLetterReason.MISSING_REQUEST_ID
                : r.getUserId() == 0 ? DeadLetterReason.MISSING_USER_ID
                : r.getEventTime().toEpochMilli() <= 0 ? DeadLetterReason.BAD_EVENT_TIME
                : candidates.isEmpty() ? DeadLetterReason.EMPTY_CANDIDATES
                : candidates.size() > limits.maxCandidates() ? DeadLetterReason.TOO_MANY_CANDIDATES
                : null;
        if (problem != null) {
            return Outcome.reject(problem, problem == DeadLetterReason.TOO_MANY_CANDIDATES
                    ? candidates.size() + " candidates, the cap is " + limits.maxCandidates()
                    : "request " + r.getRequestId() + " of user " + r.getUserId());
        }
        long[] items = new long[candidates.size()];
        long[] categories = new long[candidates.size()];
        for (int i = 0; i < items.length; i++) {
            Candidate c = candidates.get(i);
            if (c.getItemId() == 0 || c.getCategoryId() == 0) {
                return Outcome.reject(c.getItemId() == 0 ? DeadLetterReason.MISSING_ITEM_ID
                        : DeadLetterReason.MISSING_CATEGORY_ID, "candidate " + i + " of request " + r.getRequestId());
            }
            items[i] = c.getItemId();
            categories[i] = c.getCategoryId();
        }
        return new Outcome<>(new ScoreRequest(r.getRequestId(), r.getUserId(), r.getEventTime().toEpochMilli(), items,
                categories, topic, partition, offset, timestamp), null, null);
    }

    private <T extends SpecificRecordBase> Outcome<T> decode(byte[] value, Class<T> type, BinaryMessageDecoder<T> decoder,
                                                             String what) {
        if (value == null) {
            return Outcome.reject(DeadLetterReason.UNDECODABLE, "record has no value");
        }
        Schema writer = AvroMessages.writerSchema(type, value);
        if (writer == null) {
            return Outcome.reject(DeadLetterReason.UNDECODABLE, "not " + what + ": no single-object header with a known "
                    + type.getSimpleName() + " schema fingerprint");
        }
        AvroLimits.Violation v = avroLimits.check(writer, value, AvroMessages.HEADER_LENGTH);
        if (v != null) {
            return Outcome.reject(v.kind() == AvroLimits.Kind.STRING_TOO_LONG ? DeadLetterReason.FIELD_TOO_LONG
                    : DeadLetterReason.UNDECODABLE, "not " + what + " within limits: " + v.field() + ": " + v.detail());
        }
        try {
            return new Outcome<>(decoder.decode(value), null, null);
        } catch (java.io.IOException | RuntimeException e) {
            return Outcome.reject(DeadLetterReason.UNDECODABLE, "not " + what + ": " + e);
        }
    }
}

package io.dienflink.kafka;

/** Why a record went to the dead-letter topic; {@link #code()} is the stable value in {@code DeadLetter.reason}. */
public enum DeadLetterReason {
    /** Not Avro single-object encoding of the topic's schema (or no value at all). */
    UNDECODABLE("undecodable"),
    /** An id string ({@code event_id}, {@code request_id}) longer than {@code dien.input.max-id-bytes}. */
    FIELD_TOO_LONG("field_too_long"),
    MISSING_EVENT_ID("missing_event_id"),
    MISSING_REQUEST_ID("missing_request_id"),
    /** user_id is 0, the Avro default. */
    MISSING_USER_ID("missing_user_id"),
    MISSING_ITEM_ID("missing_item_id"),
    MISSING_CATEGORY_ID("missing_category_id"),
    /** event_time ≤ 0. */
    BAD_EVENT_TIME("bad_event_time"),
    EMPTY_CANDIDATES("empty_candidates"),
    /** More candidates than the configured cap. */
    TOO_MANY_CANDIDATES("too_many_candidates"),
    /** A valid request older than {@code dien.request.max-age} when it reached the scorer: not scored. */
    EXPIRED("expired");

    private final String code;

    DeadLetterReason(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }
}

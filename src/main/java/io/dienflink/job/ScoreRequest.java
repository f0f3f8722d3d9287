package io.dienflink.job;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.RawRecord;
import io.dienflink.kafka.UserKeys;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated ad request: candidates as parallel id arrays, in request order, and where it was
 * read (so a request that is not scored, for example because it expired, can be dead-lettered
 * with its coordinates).
 *
 * @param sourceTopic the topic it was read from, or null when not read from Kafka
 * @param sourcePartition its partition, -1 when unknown
 * @param sourceOffset its offset, -1 when unknown
 * @param recordTimestamp the Kafka record's timestamp, -1 when unknown
 */
public record ScoreRequest(String requestId, long userId, long eventTime, long[] itemIds, long[] categoryIds,
                           String sourceTopic, int sourcePartition, long sourceOffset, long recordTimestamp) {

    /** A request not read from Kafka (tests, tools). */
    public ScoreRequest(String requestId, long userId, long eventTime, long[] itemIds, long[] categoryIds) {
        this(requestId, userId, eventTime, itemIds, categoryIds, null, -1, -1, -1);
    }

    /**
     * The record this request was read from, as far as it can be restored: the coordinates as read,
     * the value re-encoded from the fields (the same bytes for a record written with the current
     * AdRequest schema, which has not changed since version 1), the key as producers write it.
     */
    RawRecord asRawRecord() {
        List<Candidate> candidates = new ArrayList<>(itemIds.length);
        for (int i = 0; i < itemIds.length; i++) {
            candidates.add(new Candidate(itemIds[i], categoryIds[i]));
        }
        byte[] value = AvroMessages.encode(new AdRequest(requestId, userId, Instant.ofEpochMilli(eventTime), candidates));
        return new RawRecord(sourceTopic == null ? "" : sourceTopic, sourcePartition, sourceOffset, recordTimestamp,
                UserKeys.key(userId), value);
    }
}

package io.dienflink.job;

import io.dienflink.model.Fnv1a;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * A validated click, as the scoring operator receives it: the event id is carried as its 64-bit
 * FNV-1a hash, the only form the operator uses (de-duplication), so the record crosses the network
 * between the decoders and the scorers as five longs ({@link ClickTypeInfo}).
 */
@TypeInfo(ClickTypeInfo.Factory.class)
public record Click(long eventHash, long userId, long itemId, long categoryId, long eventTime) {
    /** A click with the event id as it came from Kafka, hashed here ({@link Fnv1a#hash64}). */
    public Click(String eventId, long userId, long itemId, long categoryId, long eventTime) {
        this(Fnv1a.hash64(eventId), userId, itemId, categoryId, eventTime);
    }
}

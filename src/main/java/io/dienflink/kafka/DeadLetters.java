package io.dienflink.kafka;

import io.dienflink.avro.DeadLetter;
import java.nio.ByteBuffer;
import java.time.Instant;

/** Builds {@code DeadLetter} records that keep everything needed to inspect or replay the input. */
public final class DeadLetters {
    private DeadLetters() {}

    public static DeadLetter of(RawRecord raw, DeadLetterReason reason, String detail, long now) {
        return DeadLetter.newBuilder()
                .setSourceTopic(raw.topic())
                .setPartition(raw.partition())
                .setOffset(raw.offset())
                .setReason(reason.code())
                .setDetail(detail == null ? "" : detail)
                .setPayload(ByteBuffer.wrap(raw.value() == null ? new byte[0] : raw.value()))
                .setKey(raw.key() == null ? null : ByteBuffer.wrap(raw.key()))
                .setDeadLetteredAt(Instant.ofEpochMilli(now))
                .build();
    }
}

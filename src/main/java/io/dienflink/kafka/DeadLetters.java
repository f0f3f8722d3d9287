package io.dienflink.kafka;

import io.dienflink.avro.DeadLetter;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Builds {@code DeadLetter} records that keep what is needed to inspect or replay the input, and
 * that always fit the producer's limits (1 MiB by default) whatever came in: the detail is cut at
 * {@value #MAX_DETAIL_CHARS} characters, the value and key at {@value #MAX_PAYLOAD_BYTES} bytes; a
 * cut value keeps its original length and SHA-256 so the original can be found and checked.
 */
public final class DeadLetters {
    /** At most this many characters of detail (about 4 kB of UTF-8 at worst). */
    public static final int MAX_DETAIL_CHARS = 1024;
    /** At most this many bytes of the record's value, and of its key. */
    public static final int MAX_PAYLOAD_BYTES = 64 * 1024;

    private DeadLetters() {}

    public static DeadLetter of(RawRecord raw, DeadLetterReason reason, String detail, long now) {
        byte[] value = raw.value();
        byte[] key = raw.key();
        return DeadLetter.newBuilder()
                .setSourceTopic(raw.topic())
                .setPartition(raw.partition())
                .setOffset(raw.offset())
                .setReason(reason.code())
                .setDetail(capDetail(detail))
                .setPayload(ByteBuffer.wrap(value == null ? new byte[0] : cap(value)))
                .setPayloadLength(value == null ? -1 : value.length)
                .setPayloadSha256(value == null ? "" : sha256(value))
                .setPayloadTruncated(value != null && value.length > MAX_PAYLOAD_BYTES)
                .setKey(key == null ? null : ByteBuffer.wrap(cap(key)))
                .setRecordTimestamp(Instant.ofEpochMilli(Math.max(0, raw.timestamp())))
                .setDeadLetteredAt(Instant.ofEpochMilli(now))
                .build();
    }

    /** {@code detail} cut to {@value #MAX_DETAIL_CHARS} characters, ending in '…' when cut; "" for null. */
    static String capDetail(String detail) {
        if (detail == null) {
            return "";
        }
        if (detail.length() <= MAX_DETAIL_CHARS) {
            return detail;
        }
        int end = MAX_DETAIL_CHARS - 1;
        if (Character.isHighSurrogate(detail.charAt(end - 1))) {
            end--; // never split a surrogate pair into an unpaired half
        }
        return detail.substring(0, end) + '…';
    }

    private static byte[] cap(byte[] bytes) {
        return bytes.length <= MAX_PAYLOAD_BYTES ? bytes : Arrays.copyOf(bytes, MAX_PAYLOAD_BYTES);
    }

    /** The SHA-256 of {@code bytes} as lower-case hex. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}

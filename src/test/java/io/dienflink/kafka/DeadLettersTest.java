package io.dienflink.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.DeadLetter;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Dead letters stay small whatever came in: detail, payload and key are capped, and a cut payload
 * keeps the whole value's length and SHA-256, so the encoded record always fits a producer's
 * default 1 MiB request.
 */
class DeadLettersTest {
    private static final int KIB = 1024;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static RawRecord raw(byte[] key, byte[] value) {
        return new RawRecord("clicks", 1, 42, 1_000L, key, value);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void aHugeDetailIsCutWithAnEllipsis() {
        String detail = "d".repeat(1024 * KIB);
        DeadLetter d = DeadLetters.of(raw(null, new byte[] {1}), DeadLetterReason.UNDECODABLE, detail, 5);
        assertThat(d.getDetail().length()).isLessThanOrEqualTo(DeadLetters.MAX_DETAIL_CHARS);
        assertThat(d.getDetail()).endsWith("…").startsWith("ddd");
        // a short detail stays as it is, a null one becomes empty
        assertThat(DeadLetters.of(raw(null, null), DeadLetterReason.UNDECODABLE, "short", 5).getDetail()).isEqualTo("short");
        assertThat(DeadLetters.of(raw(null, null), DeadLetterReason.UNDECODABLE, null, 5).getDetail()).isEmpty();
    }

    @Test
    void aDetailIsNeverCutInsideASurrogatePair() {
        // an emoji (two chars) straddling the cut: the cut goes before it
        String detail = "a".repeat(DeadLetters.MAX_DETAIL_CHARS - 2) + "😀".repeat(10);
        String cut = DeadLetters.of(raw(null, null), DeadLetterReason.UNDECODABLE, detail, 5).getDetail();
        assertThat(cut.length()).isLessThanOrEqualTo(DeadLetters.MAX_DETAIL_CHARS);
        assertThat(Character.isHighSurrogate(cut.charAt(cut.length() - 2))).isFalse();
        assertThat(cut).endsWith("…");
    }

    @Test
    void aLargePayloadIsCutButKeepsItsLengthAndHash() throws Exception {
        byte[] value = random(600 * KIB, 1);
        DeadLetter d = DeadLetters.of(raw(new byte[] {7}, value), DeadLetterReason.FIELD_TOO_LONG, "x", 5);
        assertThat(d.getPayload().remaining()).isEqualTo(65_536);
        assertThat(bytes(d.getPayload())).isEqualTo(Arrays.copyOf(value, 65_536));
        assertThat(d.getPayloadLength()).isEqualTo(600L * KIB);
        assertThat(d.getPayloadSha256()).isEqualTo(sha256(value));
        assertThat(d.getPayloadTruncated()).isTrue();
        assertThat(bytes(d.getKey())).containsExactly(7);
    }

    @Test
    void aPayloadAtTheCapIsKeptWhole() throws Exception {
        byte[] value = random(DeadLetters.MAX_PAYLOAD_BYTES, 2);
        DeadLetter d = DeadLetters.of(raw(null, value), DeadLetterReason.UNDECODABLE, "x", 5);
        assertThat(bytes(d.getPayload())).isEqualTo(value);
        assertThat(d.getPayloadLength()).isEqualTo(value.length);
        assertThat(d.getPayloadSha256()).isEqualTo(sha256(value));
        assertThat(d.getPayloadTruncated()).isFalse();
        assertThat(d.getKey()).isNull();
    }

    @Test
    void theEncodedDeadLetterStaysSmallWithAMebibyteKeyAndValue() throws Exception {
        byte[] key = random(1024 * KIB, 3);
        byte[] value = random(1024 * KIB, 4);
        DeadLetter d = DeadLetters.of(raw(key, value), DeadLetterReason.UNDECODABLE, "€".repeat(1024 * KIB), 5);
        assertThat(d.getKey().remaining()).isEqualTo(DeadLetters.MAX_PAYLOAD_BYTES);
        assertThat(bytes(d.getKey())).isEqualTo(Arrays.copyOf(key, DeadLetters.MAX_PAYLOAD_BYTES));
        byte[] encoded = AvroMessages.encode(d);
        assertThat(encoded.length).isLessThan(200 * KIB);
        // and it decodes back to the same dead letter
        assertThat(AvroMessages.decoder(DeadLetter.class).decode(encoded, null)).isEqualTo(d);
    }

    @Test
    void aMissingValueHasLengthMinusOne() {
        DeadLetter d = DeadLetters.of(raw(null, null), DeadLetterReason.UNDECODABLE, "record has no value", 5);
        assertThat(d.getPayloadLength()).isEqualTo(-1);
        assertThat(d.getPayload().remaining()).isZero();
        assertThat(d.getPayloadSha256()).isEmpty();
        assertThat(d.getPayloadTruncated()).isFalse();
        // an empty value is a value: length 0 and the hash of nothing
        DeadLetter empty = DeadLetters.of(raw(null, new byte[0]), DeadLetterReason.UNDECODABLE, "", 5);
        assertThat(empty.getPayloadLength()).isZero();
        assertThat(empty.getPayloadSha256()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    @Test
    void aNegativeRecordTimestampBecomesZero() {
        DeadLetter d = DeadLetters.of(new RawRecord("t", 0, 0, -1L, null, null), DeadLetterReason.UNDECODABLE, "", 5);
        assertThat(d.getRecordTimestamp().toEpochMilli()).isZero();
        assertThat(d.getDeadLetteredAt().toEpochMilli()).isEqualTo(5);
    }
}

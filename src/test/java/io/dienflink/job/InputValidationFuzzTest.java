package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.ClickEvent;
import io.dienflink.kafka.AvroLimits;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.DeadLetterReason;
import java.util.HexFormat;
import static java.nio.charset.StandardCharsets.UTF_8;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fuzzes the validation path without Flink: hundreds of thousands of mutated clicks and requests
 * through {@link InputValidation} and {@link AvroLimits}. Every input must get a verdict (never an
 * exception), the raw-byte check must agree with an independent reading of the two schemas (so no
 * declared length or item count beyond the remaining bytes ever reaches Avro), what the check
 * passes Avro must decode, and a valid record must pass unchanged.
 */
class InputValidationFuzzTest {
    private static final Logger LOG = LoggerFactory.getLogger(InputValidationFuzzTest.class);
    private static final int MUTATED = 200_000;
    private static final InputValidation.Limits LIMITS = new InputValidation.Limits(256, 500);
    /** InputValidation's item bound; no record here comes near it. */
    private static final int MAX_ITEMS = 100_000;
    private static final long[] ITEMS = {11, 12, 13, 1_000_003};
    private static final long[] CATEGORIES = {3, 4, 700};

    private final InputValidation validation = new InputValidation(LIMITS);
    private final AvroLimits avroLimits = new AvroLimits(LIMITS.maxIdBytes(), MAX_ITEMS);
    private final Schema clickSchema = ClickEvent.getClassSchema();
    private final Schema requestSchema = AdRequest.getClassSchema();
    private final BinaryMessageDecoder<ClickEvent> clickDecoder = AvroMessages.decoder(ClickEvent.class);
    private final BinaryMessageDecoder<AdRequest> requestDecoder = AvroMessages.decoder(AdRequest.class);

    @Test
    void mutatedRecordsAlwaysGetAVerdictAndNoBogusLengthReachesAvro() {
        HostileInputs gen = new HostileInputs(20261201L, ITEMS, CATEGORIES, 50, LIMITS.maxIdBytes(), LIMITS.maxCandidates());
        Map<String, Integer> byKind = new TreeMap<>();
        Map<String, Integer> byVerdict = new TreeMap<>();
        for (int i = 0; i < MUTATED; i++) {
            boolean clicks = (i & 1) == 0;
            HostileInputs.Input in = gen.next(clicks);
            byte[] value = in.value();
            String kind = in.label();
            if (in.kind() == HostileInputs.Kind.VALID) {
                kind = "body-flipped";
                // most of the mix must fail the checks, so flip bits inside the body (past the
                // header, which would only give an unknown fingerprint) to reach the Avro checks
                value = gen.flipBits(value, 1 + gen.nextInt(8), AvroMessages.HEADER_LENGTH);
            }
            byKind.merge(kind, 1, Integer::sum);
            byVerdict.merge(checkOne(value, clicks), 1, Integer::sum);
        }
        LOG.info("validation fuzz: {} mutated records by kind {}, verdicts {}", MUTATED, byKind, byVerdict);
        assertThat(byVerdict).containsKeys("valid", "undecodable");
    }

    @Test
    void craftedLengthsAndCountsAreRejectedBeforeAvro() {
        byte[] valid = HostileInputs.request("x", 1, 4, new long[] {5}, new long[] {6});
        int body = AvroMessages.HEADER_LENGTH;
        // request_id length: every varint the fuzz rarely builds, up to the 10-byte extremes
        long[] lengths = {-1, Integer.MAX_VALUE, Integer.MAX_VALUE + 1L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40};
        for (long n : lengths) {
            byte[] crafted = concat(slice(valid, 0, body), zigzag(n), slice(valid, body + 2, valid.length));
            assertThat(checkOne(crafted, false)).as("request_id length %d", n).isEqualTo("undecodable");
        }
        // the candidates' block count, with and without the block-size form (negative count)
        int array = body + 4; // after "x" (2 bytes), user 1 and time 4 (1 byte each)
        long[] counts = {Long.MIN_VALUE, Long.MAX_VALUE, -Long.MAX_VALUE, 1L << 33, -(1L << 33), 1_000_000, -1_000_000, 3, -3};
        for (long c : counts) {
            byte[] size = c < 0 ? zigzag(4) : new byte[0];
            // then the end of the array: a count that is skipped as if it were no items would pass
            byte[] crafted = concat(slice(valid, 0, array), zigzag(c), size, new byte[] {0});
            assertThat(checkOne(crafted, false)).as("candidate count %d", c).isEqualTo("undecodable");
        }
    }

    @Test
    void idsThatAreNotUtf8AreUndecodable() {
        // Avro would decode both ids to "\uFFFD": two distinct clicks, applied as one
        byte[] a = HostileInputs.click("A", 5, 6, 7, 9);
        byte[] b = a.clone();
        int id = AvroMessages.HEADER_LENGTH + 1; // after the length byte
        a[id] = (byte) 0xFF;
        b[id] = (byte) 0xFE;
        for (byte[] v : new byte[][] {a, b}) {
            assertThat(validation.click(v).reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
            assertThat(validation.click(v).detail()).contains("event_id").contains("not UTF-8");
            assertThat(checkOne(v, true)).isEqualTo("undecodable");
        }
        // an encoded surrogate (CESU-8) and an overlong '/' are not UTF-8 either
        byte[] request = HostileInputs.request("abc", 1, 4, new long[] {5}, new long[] {6});
        for (byte[] bad : new byte[][] {{(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xC0, (byte) 0xAF, 'x'}}) {
            byte[] v = request.clone();
            System.arraycopy(bad, 0, v, AvroMessages.HEADER_LENGTH + 1, 3);
            assertThat(checkOne(v, false)).isEqualTo("undecodable");
        }
        // multi-byte and supplementary characters are fine
        assertThat(validation.click(HostileInputs.click("é€😀", 5, 6, 7, 9)).valid()).isTrue();
    }

    @Test
    void validRecordsPassUnchanged() throws Exception {
        HostileInputs gen = new HostileInputs(7L, ITEMS, CATEGORIES, 50, LIMITS.maxIdBytes(), LIMITS.maxCandidates());
        for (int i = 0; i < 10_000; i++) {
            byte[] c = gen.validClick();
            ClickEvent e = clickDecoder.decode(c);
            assertThat(validation.click(c).value()).isEqualTo(new Click(e.getEventId(), e.getUserId(), e.getItemId(),
                    e.getCategoryId(), e.getEventTime().toEpochMilli()));
            byte[] r = gen.validRequest();
            ScoreRequest s = validation.request(r).value();
            AdRequest a = requestDecoder.decode(r);
            assertThat(s).isNotNull();
            assertThat(s.requestId()).isEqualTo(a.getRequestId());
            assertThat(s.userId()).isEqualTo(a.getUserId());
            assertThat(s.eventTime()).isEqualTo(a.getEventTime().toEpochMilli());
            assertThat(s.itemIds()).containsExactly(a.getCandidates().stream().mapToLong(x -> x.getItemId()).toArray());
            assertThat(s.categoryIds()).containsExactly(a.getCandidates().stream().mapToLong(x -> x.getCategoryId()).toArray());
            assertThat(checkOne(c, true)).isEqualTo("valid");
            assertThat(checkOne(r, false)).isEqualTo("valid");
        }
    }

    @Test
    void extremeRecordsGetTheirVerdicts() {
        HostileInputs gen = new HostileInputs(8L, ITEMS, CATEGORIES, 50, LIMITS.maxIdBytes(), LIMITS.maxCandidates());
        for (boolean clicks : new boolean[] {true, false}) {
            for (HostileInputs.Input in : gen.extremes(clicks)) {
                InputValidation.Outcome<?> o = clicks ? validation.click(in.value()) : validation.request(in.value());
                assertThat(o.valid() ? null : o.reason().code()).as(in.label()).isEqualTo(in.expected());
                assertThat(checkOne(in.value(), clicks)).as(in.label()).isEqualTo(in.expected() == null ? "valid" : in.expected());
            }
        }
    }

    /**
     * Runs one value through both validations and the raw-byte check, asserting the properties;
     * returns the verdict for the topic ({@code clicks} or requests): "valid" or the reason code.
     */
    private String checkOne(byte[] value, boolean clicks) {
        InputValidation.Outcome<?> click;
        InputValidation.Outcome<?> request;
        try {
            click = validation.click(value);
            request = validation.request(value);
        } catch (Throwable t) {
            throw new AssertionError("validation threw on " + hex(value), t);
        }
        for (InputValidation.Outcome<?> o : new InputValidation.Outcome<?>[] {click, request}) {
            if (o.valid() == (o.reason() != null)) {
                fail("neither value nor reason (or both) for " + hex(value) + ": " + o);
            }
        }
        if (value != null && value.length >= AvroMessages.HEADER_LENGTH) {
            agree(value, clickSchema, ClickEvent.class, click);
            agree(value, requestSchema, AdRequest.class, request);
        }
        InputValidation.Outcome<?> mine = clicks ? click : request;
        return mine.valid() ? "valid" : mine.reason().code();
    }

    /**
     * The raw-byte check on the body against {@code schema} must say what the independent reading
     * says; and when the value carries this schema's header, the verdict must follow from it: a
     * malformed body is undecodable, an over-long id field_too_long, a well-formed one decodes (so
     * Avro never rejects what the check let through).
     */
    private void agree(byte[] value, Schema schema, Class<? extends org.apache.avro.specific.SpecificRecordBase> type,
                       InputValidation.Outcome<?> verdict) {
        AvroLimits.Violation v;
        try {
            v = avroLimits.check(schema, value, AvroMessages.HEADER_LENGTH);
        } catch (Throwable t) {
            throw new AssertionError("AvroLimits threw on " + hex(value), t);
        }
        Reading expected = new Reading(value, schema == requestSchema).read();
        AvroLimits.Kind got = v == null ? null : v.kind();
        if (got != expected.kind) {
            fail(schema.getName() + " body of " + hex(value) + ": the check says " + v + ", the schema reading says "
                    + expected.kind + " (" + expected.why + ")");
        }
        if (AvroMessages.writerSchema(type, value) != null) {
            DeadLetterReason reason = verdict.valid() ? null : verdict.reason();
            if (got == null) {
                assertThat(reason).as("verdict of a well-formed %s %s", schema.getName(), hex(value))
                        .isNotIn(DeadLetterReason.UNDECODABLE, DeadLetterReason.FIELD_TOO_LONG);
            } else {
                assertThat(reason).as("verdict of %s %s", schema.getName(), hex(value)).isEqualTo(
                        got == AvroLimits.Kind.STRING_TOO_LONG ? DeadLetterReason.FIELD_TOO_LONG : DeadLetterReason.UNDECODABLE);
            }
        }
    }

    /**
     * An independent reading of a ClickEvent or AdRequest body, written from the two schemas rather
     * than walking a Schema: every declared string length and item count must be non-negative and
     * fit in the bytes left, strings at most the id limit, no bytes after the record.
     */
    private static final class Reading {
        private final byte[] b;
        private final boolean request;
        private int pos = AvroMessages.HEADER_LENGTH;
        AvroLimits.Kind kind;
        String why = "";

        Reading(byte[] b, boolean request) {
            this.b = b;
            this.request = request;
        }

        Reading read() {
            if (string("id") && (request ? longs(2) && candidates() : longs(4)) && pos != b.length) {
                bad(AvroLimits.Kind.MALFORMED, (b.length - pos) + " trailing bytes");
            }
            return this;
        }

        private boolean candidates() {
            long items = 0;
            while (true) {
                Long count = varint();
                if (count == null) {
                    return bad(AvroLimits.Kind.MALFORMED, "block count");
                }
                if (count == 0) {
                    return true;
                }
                if (count < 0) {
                    if (count == Long.MIN_VALUE) { // its negation is no count at all
                        return bad(AvroLimits.Kind.MALFORMED, "block count MIN_VALUE");
                    }
                    count = -count;
                    if (varint() == null) {
                        return bad(AvroLimits.Kind.MALFORMED, "block size");
                    }
                }
                items += count;
                if (items > MAX_ITEMS) {
                    return bad(AvroLimits.Kind.TOO_MANY_ITEMS, items + " items");
                }
                if (count > b.length - pos) {
                    return bad(AvroLimits.Kind.MALFORMED, count + " items in " + (b.length - pos) + " bytes");
                }
                if (!longs((int) (2 * count))) {
                    return false;
                }
            }
        }

        private boolean string(String what) {
            Long n = varint();
            if (n == null || n < 0 || n > b.length - pos) {
                return bad(AvroLimits.Kind.MALFORMED, what + " length " + n);
            }
            if (n > LIMITS.maxIdBytes()) {
                return bad(AvroLimits.Kind.STRING_TOO_LONG, what + " length " + n);
            }
            // well-formed UTF-8 is exactly what survives a round trip through String unchanged
            byte[] text = java.util.Arrays.copyOfRange(b, pos, pos + n.intValue());
            if (!java.util.Arrays.equals(new String(text, UTF_8).getBytes(UTF_8), text)) {
                return bad(AvroLimits.Kind.MALFORMED, what + " not UTF-8");
            }
            pos += n.intValue();
            return true;
        }

        private boolean longs(int n) {
            for (int i = 0; i < n; i++) {
                if (varint() == null) {
                    return bad(AvroLimits.Kind.MALFORMED, "long");
                }
            }
            return true;
        }

        /** A zig-zag varint of at most 10 bytes; null when truncated or longer. */
        private Long varint() {
            long raw = 0;
            for (int i = 0; i < 10; i++) {
                if (pos >= b.length) {
                    return null;
                }
                int x = b[pos++] & 0xFF;
                raw |= (long) (x & 0x7F) << (7 * i);
                if (x < 0x80) {
                    return (raw >>> 1) ^ -(raw & 1);
                }
            }
            return null;
        }

        private boolean bad(AvroLimits.Kind k, String detail) {
            kind = k;
            why = detail;
            return false;
        }
    }

    private static byte[] zigzag(long v) {
        long z = (v << 1) ^ (v >> 63);
        byte[] out = new byte[10];
        int n = 0;
        while ((z & ~0x7FL) != 0) {
            out[n++] = (byte) ((z & 0x7F) | 0x80);
            z >>>= 7;
        }
        out[n++] = (byte) z;
        return slice(out, 0, n);
    }

    private static byte[] slice(byte[] b, int from, int to) {
        return java.util.Arrays.copyOfRange(b, from, to);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static String hex(byte[] value) {
        if (value == null) {
            return "null";
        }
        String h = HexFormat.of().formatHex(value, 0, Math.min(value.length, 512));
        return value.length > 512 ? h + "… (" + value.length + " bytes)" : h;
    }
}

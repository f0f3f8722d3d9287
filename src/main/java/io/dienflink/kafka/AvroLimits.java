package io.dienflink.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;

/**
 * Checks an Avro binary body against its writer schema before anything is decoded: every length
 * and item count must fit in the bytes that remain (so a corrupt length cannot make Avro allocate a
 * huge string or array), every string must be well-formed UTF-8 of at most {@code maxStringBytes},
 * every array at most {@code maxItems} items, and the body must end where the record ends.
 *
 * <p>This replaces Avro's JVM-wide {@code org.apache.avro.limits.*} system properties, which only
 * apply if they are set before Avro's limit class is loaded and then bind every user of Avro in the
 * JVM.
 */
public final class AvroLimits {
    /** What is wrong with a record; {@code field} is the dotted path of the offending field. */
    public record Violation(Kind kind, String field, String detail) {}

    public enum Kind {
        /**
         * Not a well-formed body of the schema: bad varint, length past the end, a string that is
         * not UTF-8, bad union index, trailing bytes.
         */
        MALFORMED,
        /** A string longer than the limit. */
        STRING_TOO_LONG,
        /** An array with more items than the limit. */
        TOO_MANY_ITEMS
    }

    private final int maxStringBytes;
    private final int maxItems;
    /** Reports malformed input instead of replacing it. */
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private byte[] buf;
    private int pos;

    /** A checker; not thread-safe (it keeps its read position). */
    public AvroLimits(int maxStringBytes, int maxItems) {
        this.maxStringBytes = maxStringBytes;
        this.maxItems = maxItems;
    }

    /** Checks the body {@code value[offset..]} against {@code schema}; null when it is fine. */
    public Violation check(Schema schema, byte[] value, int offset) {
        buf = value;
        pos = offset;
        try {
            Violation v = walk(schema, schema.getName());
            if (v == null && pos != buf.length) {
                return new Violation(Kind.MALFORMED, schema.getName(), (buf.length - pos) + " bytes after the record");
            }
            return v;
        } catch (Truncated e) {
            return new Violation(Kind.MALFORMED, e.getMessage(), "record ends inside this field");
        } finally {
            buf = null;
        }
    }

    private Violation walk(Schema s, String path) {
        switch (s.getType()) {
            case RECORD -> {
                for (Schema.Field f : s.getFields()) {
                    Violation v = walk(f.schema(), path + "." + f.name());
                    if (v != null) {
                        return v;
                    }
                }
                return null;
            }
            case NULL -> {
                return null;
            }
            case BOOLEAN -> {
                need(1, path);
                pos++;
                return null;
            }
            case INT, LONG, ENUM -> {
                return varint(path) == null ? malformed(path, "bad variable-length integer") : null;
            }
            case FLOAT -> {
                need(4, path);
                pos += 4;
                return null;
            }
            case DOUBLE -> {
                need(8, path);
                pos += 8;
                return null;
            }
            case FIXED -> {
                need(s.getFixedSize(), path);
                pos += s.getFixedSize();
                return null;
            }
            case STRING, BYTES -> {
                Long n = varint(path);
                if (n == null || n < 0) {
                    return malformed(path, "bad length " + n);
                }
                if (n > buf.length - pos) {
                    return malformed(path, "length " + n + " past the end of the record");
                }
                if (s.getType() == Schema.Type.STRING) {
                    if (n > maxStringBytes) {
                        return new Violation(Kind.STRING_TOO_LONG, path, n + " bytes, the limit is " + maxStringBytes);
                    }
                    // Avro's decoder replaces malformed UTF-8 with U+FFFD, so different ids would
                    // decode to the same string (two distinct clicks applied as one, a score whose
                    // request_id is not the request's): such a record is not a valid one
                    if (!utf8(pos, (int) (long) n)) {
                        return malformed(path, "not UTF-8");
                    }
                }
                pos += (int) (long) n;
                return null;
            }
            case UNION -> {
                Long i = varint(path);
                if (i == null || i < 0 || i >= s.getTypes().size()) {
                    return malformed(path, "bad union branch " + i);
                }
                return walk(s.getTypes().get((int) (long) i), path);
            }
            case ARRAY, MAP -> {
                long items = 0;
                while (true) {
                    Long count = varint(path);
                    if (count == null) {
                        return malformed(path, "bad block count");
                    }
                    if (count == 0) {
                        return null;
                    }
                    if (count == Long.MIN_VALUE) {
                        // -MIN_VALUE overflows to itself: walked as no items, while Avro's decoder
                        // ends the array there and reads the following blocks as the next fields
                        return malformed(path, "bad block count " + count);
                    }
                    if (count < 0) { // a negative count is followed by the block's size in bytes
                        count = -count;
                        if (varint(path) == null) {
                            return malformed(path, "bad block size");
                        }
                    }
                    items += count;
                    if (items > maxItems) {
                        return new Violation(Kind.TOO_MANY_ITEMS, path, "more than " + maxItems + " items");
                    }
                    // every item takes at least one byte in every schema this project reads; a count
                    // beyond the remaining bytes is corrupt, whatever it would make a decoder allocate
                    if (count > buf.length - pos) {
                        return malformed(path, count + " items in " + (buf.length - pos) + " bytes");
                    }
                    for (long k = 0; k < count; k++) {
                        if (s.getType() == Schema.Type.MAP) {
                            Violation key = walk(Schema.create(Schema.Type.STRING), path + "[key]");
                            if (key != null) {
                                return key;
                            }
                        }
                        Violation v = walk(s.getType() == Schema.Type.MAP ? s.getValueType() : s.getElementType(),
                                path + "[" + k + "]");
                        if (v != null) {
                            return v;
                        }
                    }
                }
            }
            default -> throw new IllegalArgumentException("unsupported schema type " + s.getType());
        }
    }

    /** Whether {@code buf[from..from+length)} is well-formed UTF-8. */
    private boolean utf8(int from, int length) {
        try {
            utf8.reset().decode(ByteBuffer.wrap(buf, from, length));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** A zig-zag varint of at most 10 bytes, or null when it is malformed. */
    private Long varint(String path) {
        long raw = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            need(1, path);
            int b = buf[pos++] & 0xFF;
            raw |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        return null;
    }

    private void need(int n, String path) {
        if (buf.length - pos < n) {
            throw new Truncated(path);
        }
    }

    private static Violation malformed(String path, String detail) {
        return new Violation(Kind.MALFORMED, path, detail);
    }

    private static final class Truncated extends RuntimeException {
        Truncated(String path) {
            super(path, null, false, false);
        }
    }
}

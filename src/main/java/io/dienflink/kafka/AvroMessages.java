package io.dienflink.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * The wire format of every topic: Avro single-object encoding ({@code 0xC3 0x01}, the 8-byte
 * schema fingerprint, then Avro binary). No schema registry is needed: writers use the current
 * schemas in {@code schemas/}; readers ({@link #decoder}) also know every earlier release's schemas
 * (kept as resources under {@code schemas/v1/} …), so records written before an upgrade still
 * decode, with new fields at their defaults.
 *
 * <p>History: version 1 is release 86d8840; version 2 added {@code CtrScore.clicks_applied} and the
 * {@code DeadLetter} payload length, hash, truncation flag and record timestamp. ClickEvent and
 * AdRequest are unchanged since version 1.
 *
 * <p>Decoding never trusts a record's lengths: {@link #writerSchema} and {@link AvroLimits} check the
 * raw bytes against the writer schema first, so no JVM-wide Avro limit properties are needed.
 */
public final class AvroMessages {
    /** Earlier schema versions, oldest first, by record name; each is a resource {@code schemas/vN/Name.avsc}. */
    private static final List<String> PREVIOUS_VERSIONS = List.of("v1");
    /** Records that did not exist before version 2 (issue 19): no earlier schema to read. */
    private static final java.util.Set<String> SINCE_V2 = java.util.Set.of("ServingLog", "Impression", "ModelEval");
    /** Marker (2 bytes) and schema fingerprint (8 bytes) before the Avro binary body. */
    public static final int HEADER_LENGTH = 10;

    private AvroMessages() {}

    /** One encoder per generated class; BinaryMessageEncoder is thread-safe. */
    private static final ClassValue<BinaryMessageEncoder<SpecificRecordBase>> ENCODERS = new ClassValue<>() {
        @Override
        protected BinaryMessageEncoder<SpecificRecordBase> computeValue(Class<?> type) {
            SpecificRecordBase prototype = prototype(type);
            return new BinaryMessageEncoder<>(prototype.getSpecificData(), prototype.getSchema());
        }
    };

    /** Per generated class: every schema a record of it may have been written with, by fingerprint. */
    private static final ClassValue<Map<Long, Schema>> WRITER_SCHEMAS = new ClassValue<>() {
        @Override
        protected Map<Long, Schema> computeValue(Class<?> type) {
            java.util.LinkedHashMap<Long, Schema> schemas = new java.util.LinkedHashMap<>();
            for (Schema s : schemasOf(type)) {
                schemas.putIfAbsent(SchemaNormalization.parsingFingerprint64(s), s); // the current one wins
            }
            return Map.copyOf(schemas);
        }
    };

    /** The single-object encoding of a record (what the generated {@code toByteBuffer()} writes). */
    public static byte[] encode(SpecificRecordBase record) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try {
            ENCODERS.get(record.getClass()).encode(record, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * A decoder of {@code type} that reads records written with the current schema or any earlier
     * release's. Decoders are thread-safe but not cheap: keep one.
     */
    public static <T extends SpecificRecordBase> BinaryMessageDecoder<T> decoder(Class<T> type) {
        SpecificRecordBase prototype = prototype(type);
        BinaryMessageDecoder<T> decoder = new BinaryMessageDecoder<>(prototype.getSpecificData(), prototype.getSchema());
        for (Schema s : schemasOf(type)) {
            decoder.addSchema(s);
        }
        return decoder;
    }

    /**
     * The schema {@code value} says it was written with, or null when it is not a single-object
     * encoded record of {@code type} (too short, wrong marker, or an unknown fingerprint).
     */
    public static Schema writerSchema(Class<? extends SpecificRecordBase> type, byte[] value) {
        if (value == null || value.length < HEADER_LENGTH || value[0] != (byte) 0xC3 || value[1] != (byte) 0x01) {
            return null;
        }
        long fingerprint = 0;
        for (int i = 9; i >= 2; i--) { // little-endian, as BinaryMessageEncoder writes it
            fingerprint = (fingerprint << 8) | (value[i] & 0xFF);
        }
        return WRITER_SCHEMAS.get(type).get(fingerprint);
    }

    /** The current schema and every earlier one of {@code type}. */
    private static List<Schema> schemasOf(Class<?> type) {
        List<Schema> out = new ArrayList<>();
        out.add(prototype(type).getSchema());
        if (SINCE_V2.contains(type.getSimpleName())) {
            return out;
        }
        for (String version : PREVIOUS_VERSIONS) {
            String resource = "/schemas/" + version + "/" + type.getSimpleName() + ".avsc";
            try (InputStream in = AvroMessages.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("missing schema resource " + resource);
                }
                out.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    private static SpecificRecordBase prototype(Class<?> type) {
        try {
            return (SpecificRecordBase) type.getConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("not a generated Avro record: " + type, e);
        }
    }
}

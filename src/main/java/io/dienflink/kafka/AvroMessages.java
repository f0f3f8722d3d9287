package io.dienflink.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.ByteArrayOutputStream;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * The wire format of every topic: Avro single-object encoding ({@code 0xC3 0x01}, the 8-byte
 * schema fingerprint, then Avro binary), as produced by the generated classes'
 * {@code toByteBuffer()} and read by their {@code getDecoder()}. No schema registry is needed;
 * a record written with another schema fails to decode and is dead-lettered.
 *
 * <p>Loading this class caps what a corrupt record can make Avro allocate (an array length of
 * 2³¹ in ten bytes would otherwise exhaust the heap): strings and bytes at 1 MiB, collections at
 * 100,000 items, unless the JVM was started with other limits.
 */
public final class AvroMessages {
    static {
        limit("org.apache.avro.limits.string.maxLength", 1 << 20);
        limit("org.apache.avro.limits.bytes.maxLength", 1 << 20);
        limit("org.apache.avro.limits.collectionItems.maxLength", 100_000);
    }

    private AvroMessages() {}

    private static void limit(String property, int value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(value));
        }
    }

    /** Makes sure the limits are set before any Avro decoding in this class loader. */
    public static void init() {
        // the static initializer does the work
    }

    /** One encoder per generated class; BinaryMessageEncoder is thread-safe. */
    private static final ClassValue<BinaryMessageEncoder<SpecificRecordBase>> ENCODERS = new ClassValue<>() {
        @Override
        protected BinaryMessageEncoder<SpecificRecordBase> computeValue(Class<?> type) {
            try {
                SpecificRecordBase prototype = (SpecificRecordBase) type.getConstructor().newInstance();
                return new BinaryMessageEncoder<>(prototype.getSpecificData(), prototype.getSchema());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("not a generated Avro record: " + type, e);
            }
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
}

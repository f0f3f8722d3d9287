package io.dienflink.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
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

    /** The single-object encoding of a record. */
    public static byte[] encode(SpecificRecordBase record) {
        try {
            ByteBuffer buf = (ByteBuffer) record.getClass().getMethod("toByteBuffer").invoke(record);
            byte[] out = new byte[buf.remaining()];
            buf.get(out);
            return out;
        } catch (ReflectiveOperationException e) {
            if (e.getCause() instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw new IllegalStateException("not a generated Avro record: " + record.getClass(), e);
        }
    }
}

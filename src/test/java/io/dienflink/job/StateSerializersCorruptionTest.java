package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.util.FlinkRuntimeException;
import org.junit.jupiter.api.Test;

/**
 * Stored bytes that no build wrote are recognised as a corrupt user (which the operator resets),
 * never an allocation of gigabytes or an error the operator would rethrow on every restart.
 */
class StateSerializersCorruptionTest {
    private static byte[] header() throws Exception {
        UserHeader h = UserHeader.fresh(7L, 20, 4, 3);
        DataOutputSerializer out = new DataOutputSerializer(64);
        StateSerializers.UserHeaderSerializer.INSTANCE.serialize(h, out);
        return out.getCopyOfBuffer();
    }

    private static Throwable read(byte[] bytes) {
        return catchThrowable(() -> StateSerializers.UserHeaderSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes)));
    }

    @Test
    void unknownFormatImpossibleLengthsAndTruncationAreCorruption() throws Exception {
        byte[] good = header();
        assertThat(read(good)).isNull();

        byte[] format = good.clone();
        format[0] = 77;
        byte[] length = good.clone();
        // the state vector's length follows format (1), fingerprint (8), capacity (4), total (8),
        // count (4), next (4), last active (8) and expiry timer (8): offset 45
        length[45] = (byte) 0x7F;
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
        for (byte[] bad : new byte[][] {format, length, truncated}) {
            Throwable t = read(bad);
            assertThat(t).isNotNull();
            // the state backend wraps what the serializer throws; the operator looks through the wrapping
            assertThat(CorruptUserException.isCorruption(new FlinkRuntimeException("Error while retrieving data", t))).isTrue();
        }
    }

    @Test
    void aBackendFailureIsNotCorruption() {
        assertThat(CorruptUserException.isCorruption(new FlinkRuntimeException("RocksDB is closed",
                new IllegalStateException("closed")))).isFalse();
    }
}

package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.model.Fnv1a;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class ClickTypeInfoTest {
    private static final Click CLICK = new Click("event-7", 11L, -12L, Long.MAX_VALUE, 1_700_000_000_000L);

    @Test
    void flinkPicksTheFixedLengthSerializerForClicks() {
        TypeInformation<Click> info = TypeInformation.of(Click.class);
        assertThat(info).isInstanceOf(ClickTypeInfo.class);
        assertThat(info.createSerializer(new SerializerConfigImpl())).isSameAs(ClickTypeInfo.ClickSerializer.INSTANCE);
    }

    @Test
    void clicksRoundTripThroughTheSerializer() throws Exception {
        TypeSerializer<Click> s = ClickTypeInfo.ClickSerializer.INSTANCE;
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(CLICK, out);
        assertThat(out.length()).isEqualTo(s.getLength());
        assertThat(s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()))).isEqualTo(CLICK);
        assertThat(CLICK.eventHash()).isEqualTo(Fnv1a.hash64("event-7"));

        // the network stack's copy path: bytes to bytes
        DataOutputSerializer copied = new DataOutputSerializer(64);
        s.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
        assertThat(copied.getCopyOfBuffer()).isEqualTo(out.getCopyOfBuffer());
    }

    @Test
    void snapshotRestoresACompatibleSerializer() {
        var snapshot = ClickTypeInfo.ClickSerializer.INSTANCE.snapshotConfiguration();
        assertThat(snapshot.restoreSerializer()).isSameAs(ClickTypeInfo.ClickSerializer.INSTANCE);
        TypeSerializerSchemaCompatibility<Click> c = ClickTypeInfo.ClickSerializer.INSTANCE.snapshotConfiguration()
                .resolveSchemaCompatibility(snapshot);
        assertThat(c.isCompatibleAsIs()).isTrue();
    }
}

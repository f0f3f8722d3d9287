package io.dienflink.job;

import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink's type information for {@link Click}: a fixed-length serializer of its five longs. The
 * generic record serializer Flink would otherwise pick (reflection, a null flag per field) took a
 * third of the scoring thread's time on deserializing clicks from the network (docs/benchmarks.md,
 * issue 11 part 4). Clicks are never kept in state, so the layout can change between builds; the
 * snapshot exists because Flink asks every serializer for one.
 */
public final class ClickTypeInfo extends TypeInformation<Click> {
    private static final long serialVersionUID = 1L;

    /** The factory named by {@link Click}'s {@code @TypeInfo} annotation. */
    public static final class Factory extends TypeInfoFactory<Click> {
        @Override
        public TypeInformation<Click> createTypeInfo(Type t, Map<String, TypeInformation<?>> genericParameters) {
            return new ClickTypeInfo();
        }
    }

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<Click> getTypeClass() {
        return Click.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<Click> createSerializer(SerializerConfig config) {
        return ClickSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "Click";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClickTypeInfo;
    }

    @Override
    public int hashCode() {
        return ClickTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
        return o instanceof ClickTypeInfo;
    }

    /** Event hash, user, item, category, event time: 40 bytes. */
    public static final class ClickSerializer extends TypeSerializerSingleton<Click> {
        private static final long serialVersionUID = 1L;
        public static final ClickSerializer INSTANCE = new ClickSerializer();

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public Click createInstance() {
            return new Click(0L, 0, 0, 0, 0);
        }

        @Override
        public Click copy(Click from) {
            return from;
        }

        @Override
        public Click copy(Click from, Click reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return 5 * Long.BYTES;
        }

        @Override
        public void serialize(Click c, DataOutputView out) throws IOException {
            out.writeLong(c.eventHash());
            out.writeLong(c.userId());
            out.writeLong(c.itemId());
            out.writeLong(c.categoryId());
            out.writeLong(c.eventTime());
        }

        @Override
        public Click deserialize(DataInputView in) throws IOException {
            return new Click(in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong());
        }

        @Override
        public Click deserialize(Click reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView in, DataOutputView out) throws IOException {
            out.write(in, getLength());
        }

        @Override
        public TypeSerializerSnapshot<Click> snapshotConfiguration() {
            return new ClickSerializerSnapshot();
        }
    }

    /** The serializer's snapshot: nothing to configure. */
    public static final class ClickSerializerSnapshot extends SimpleTypeSerializerSnapshot<Click> {
        public ClickSerializerSnapshot() {
            super(() -> ClickSerializer.INSTANCE);
        }
    }
}

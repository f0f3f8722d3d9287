package io.dienflink.job;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Serializers of the scoring operator's keyed state, with versioned snapshots so that a later
 * build can restore savepoints written by this one.
 *
 * <p>Every stored value starts with a format byte. A build that changes a layout adds a new format
 * number, keeps reading the old ones, and its snapshot declares the newest format it writes:
 * restoring an older savepoint is then compatible as is (old values are read as they come), while a
 * savepoint from a newer build, whose formats this build cannot read, is refused at restore time
 * rather than failing on the first value.
 */
public final class StateSerializers {
    private StateSerializers() {}

    /** {@link ClickEntry}: format 1 = item id, category id, state length, state floats. */
    public static final class ClickEntrySerializer extends TypeSerializerSingleton<ClickEntry> {
        public static final ClickEntrySerializer INSTANCE = new ClickEntrySerializer();
        static final int FORMAT = 1;

        @Override
        public boolean isImmutableType() {
            return false;
        }

        @Override
        public ClickEntry createInstance() {
            return new ClickEntry();
        }

        @Override
        public ClickEntry copy(ClickEntry from) {
            return new ClickEntry(from.itemId, from.categoryId, from.state.clone());
        }

        @Override
        public ClickEntry copy(ClickEntry from, ClickEntry reuse) {
            return copy(from);
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(ClickEntry e, DataOutputView out) throws IOException {
            out.writeByte(FORMAT);
            out.writeLong(e.itemId);
            out.writeLong(e.categoryId);
            writeFloats(e.state, out);
        }

        @Override
        public ClickEntry deserialize(DataInputView in) throws IOException {
            checkFormat(in.readByte(), FORMAT, "ClickEntry");
            return new ClickEntry(in.readLong(), in.readLong(), readFloats(in));
        }

        @Override
        public ClickEntry deserialize(ClickEntry reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView in, DataOutputView out) throws IOException {
            serialize(deserialize(in), out);
        }

        @Override
        public TypeSerializerSnapshot<ClickEntry> snapshotConfiguration() {
            return new ClickEntrySnapshot();
        }
    }

    /** Snapshot of {@link ClickEntrySerializer}: records the newest value format written. */
    public static final class ClickEntrySnapshot extends FormatSnapshot<ClickEntry> {
        public ClickEntrySnapshot() {
            super(ClickEntrySerializer.FORMAT);
        }

        @Override
        public TypeSerializer<ClickEntry> restoreSerializer() {
            return ClickEntrySerializer.INSTANCE;
        }
    }

    /**
     * {@link UserHeader}: format 1 = fingerprint, capacity, total clicks, count, next, last active,
     * expiry timer, newest state (length + floats), recent event id hashes (length + longs), ring position.
     */
    public static final class UserHeaderSerializer extends TypeSerializerSingleton<UserHeader> {
        public static final UserHeaderSerializer INSTANCE = new UserHeaderSerializer();
        static final int FORMAT = 1;

        @Override
        public boolean isImmutableType() {
            return false;
        }

        @Override
        public UserHeader createInstance() {
            return new UserHeader();
        }

        @Override
        public UserHeader copy(UserHeader from) {
            return from.copy();
        }

        @Override
        public UserHeader copy(UserHeader from, UserHeader reuse) {
            return from.copy();
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(UserHeader h, DataOutputView out) throws IOException {
            out.writeByte(FORMAT);
            out.writeLong(h.modelFingerprint);
            out.writeInt(h.capacity);
            out.writeLong(h.totalClicks);
            out.writeInt(h.count);
            out.writeInt(h.next);
            out.writeLong(h.lastActive);
            out.writeLong(h.expiryTimer);
            writeFloats(h.lastState, out);
            out.writeInt(h.recentEventIds.length);
            for (long id : h.recentEventIds) {
                out.writeLong(id);
            }
            out.writeInt(h.recentNext);
        }

        @Override
        public UserHeader deserialize(DataInputView in) throws IOException {
            checkFormat(in.readByte(), FORMAT, "UserHeader");
            UserHeader h = new UserHeader();
            h.modelFingerprint = in.readLong();
            h.capacity = in.readInt();
            h.totalClicks = in.readLong();
            h.count = in.readInt();
            h.next = in.readInt();
            h.lastActive = in.readLong();
            h.expiryTimer = in.readLong();
            h.lastState = readFloats(in);
            long[] ids = new long[checkedLength(in.readInt(), "the recent event ids")];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = in.readLong();
            }
            h.recentEventIds = ids;
            h.recentNext = in.readInt();
            return h;
        }

        @Override
        public UserHeader deserialize(UserHeader reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView in, DataOutputView out) throws IOException {
            serialize(deserialize(in), out);
        }

        @Override
        public TypeSerializerSnapshot<UserHeader> snapshotConfiguration() {
            return new UserHeaderSnapshot();
        }
    }

    /** Snapshot of {@link UserHeaderSerializer}: records the newest value format written. */
    public static final class UserHeaderSnapshot extends FormatSnapshot<UserHeader> {
        public UserHeaderSnapshot() {
            super(UserHeaderSerializer.FORMAT);
        }

        @Override
        public TypeSerializer<UserHeader> restoreSerializer() {
            return UserHeaderSerializer.INSTANCE;
        }
    }

    /**
     * {@link StoredUser}, the one value per user of the compact layout. Format 1: fingerprint (8
     * bytes), then variable-length integers (7 bits a byte): capacity, total clicks, count, the count
     * item ids then the count category ids oldest first (each array as zig-zag variable-length
     * integers, 1-3 bytes for the ids of a dense vocabulary, or as 8-byte longs when that is shorter,
     * as for hashed 64-bit ids; a leading byte says which), the hidden size H, the first and
     * newest states (H floats each, first omitted for an empty window), last active, expiry timer and
     * newest remembered click as differences to last active, and the remembered event hashes (8 bytes
     * each: a shorter hash would raise the odds that a legitimate click is taken for a repeat).
     */
    public static final class StoredUserSerializer extends TypeSerializerSingleton<StoredUser> {
        public static final StoredUserSerializer INSTANCE = new StoredUserSerializer();
        static final int FORMAT = 1;

        @Override
        public boolean isImmutableType() {
            return false;
        }

        @Override
        public StoredUser createInstance() {
            return new StoredUser();
        }

        @Override
        public StoredUser copy(StoredUser from) {
            return from.copy();
        }

        @Override
        public StoredUser copy(StoredUser from, StoredUser reuse) {
            return from.copy();
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(StoredUser u, DataOutputView out) throws IOException {
            out.writeByte(FORMAT);
            out.writeLong(u.modelFingerprint);
            writeVarLong(u.capacity, out);
            writeVarLong(u.totalClicks, out);
            writeVarLong(u.count, out);
            writeIds(u.items, u.count, out);
            writeIds(u.categories, u.count, out);
            writeVarLong(u.newest.length, out);
            if (u.count > 0) {
                for (float f : u.first) {
                    out.writeFloat(f);
                }
            }
            for (float f : u.newest) {
                out.writeFloat(f);
            }
            writeVarLong(zigZag(u.lastActive), out);
            writeVarLong(zigZag(u.expiryTimer - u.lastActive), out);
            writeVarLong(u.recentCount, out);
            if (u.recentCount > 0) {
                writeVarLong(zigZag(u.lastClickAt - u.lastActive), out);
                for (int i = 0; i < u.recentCount; i++) {
                    out.writeLong(u.recent[i]);
                }
            }
        }

        @Override
        public StoredUser deserialize(DataInputView in) throws IOException {
            checkFormat(in.readByte(), FORMAT, "StoredUser");
            StoredUser u = new StoredUser();
            u.modelFingerprint = in.readLong();
            u.capacity = checkedLength(readVarInt(in), "the window capacity");
            u.totalClicks = readVarLong(in);
            u.count = checkedLength(readVarInt(in), "the window");
            if (u.count > u.capacity || u.totalClicks < u.count) {
                throw new CorruptStateException("a window of " + u.count + " clicks of capacity " + u.capacity + " and "
                        + u.totalClicks + " in total");
            }
            u.items = new long[u.capacity];
            u.categories = new long[u.capacity];
            readIds(in, u.items, u.count);
            readIds(in, u.categories, u.count);
            int hidden = checkedLength(readVarInt(in), "a state vector");
            u.first = u.count > 0 ? readFloats(in, hidden) : new float[0];
            u.newest = readFloats(in, hidden);
            u.lastActive = unZigZag(readVarLong(in));
            u.expiryTimer = u.lastActive + unZigZag(readVarLong(in));
            u.recentCount = checkedLength(readVarInt(in), "the recent event ids");
            u.recent = new long[u.recentCount];
            if (u.recentCount > 0) {
                u.lastClickAt = u.lastActive + unZigZag(readVarLong(in));
                for (int i = 0; i < u.recentCount; i++) {
                    u.recent[i] = in.readLong();
                }
            }
            return u;
        }

        @Override
        public StoredUser deserialize(StoredUser reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView in, DataOutputView out) throws IOException {
            serialize(deserialize(in), out);
        }

        @Override
        public TypeSerializerSnapshot<StoredUser> snapshotConfiguration() {
            return new StoredUserSnapshot();
        }
    }

    /** Snapshot of {@link StoredUserSerializer}: records the newest value format written. */
    public static final class StoredUserSnapshot extends FormatSnapshot<StoredUser> {
        public StoredUserSnapshot() {
            super(StoredUserSerializer.FORMAT);
        }

        @Override
        public TypeSerializer<StoredUser> restoreSerializer() {
            return StoredUserSerializer.INSTANCE;
        }
    }

    private static final int IDS_VARIABLE = 0;
    private static final int IDS_FIXED = 1;

    private static void writeIds(long[] ids, int n, DataOutputView out) throws IOException {
        long variable = 0;
        for (int t = 0; t < n; t++) {
            variable += varLength(zigZag(ids[t]));
        }
        if (variable <= 8L * n) {
            out.writeByte(IDS_VARIABLE);
            for (int t = 0; t < n; t++) {
                writeVarLong(zigZag(ids[t]), out);
            }
        } else {
            out.writeByte(IDS_FIXED);
            for (int t = 0; t < n; t++) {
                out.writeLong(ids[t]);
            }
        }
    }

    private static void readIds(DataInputView in, long[] into, int n) throws IOException {
        byte encoding = in.readByte();
        if (encoding == IDS_VARIABLE) {
            for (int t = 0; t < n; t++) {
                into[t] = unZigZag(readVarLong(in));
            }
        } else if (encoding == IDS_FIXED) {
            for (int t = 0; t < n; t++) {
                into[t] = in.readLong();
            }
        } else {
            throw new CorruptStateException("unknown id encoding " + encoding);
        }
    }

    private static int varLength(long v) {
        return v == 0 ? 1 : (64 - Long.numberOfLeadingZeros(v) + 6) / 7;
    }

    static long zigZag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    static long unZigZag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }

    /** Unsigned LEB128: 7 bits a byte, low bits first. */
    static void writeVarLong(long v, DataOutputView out) throws IOException {
        while ((v & ~0x7FL) != 0) {
            out.writeByte((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    static long readVarLong(DataInputView in) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.readByte();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new CorruptStateException("a variable-length integer longer than 10 bytes");
    }

    static int readVarInt(DataInputView in) throws IOException {
        long v = readVarLong(in);
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new CorruptStateException("impossible length " + v);
        }
        return (int) v;
    }

    private static float[] readFloats(DataInputView in, int n) throws IOException {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = in.readFloat();
        }
        return v;
    }

    /** A snapshot that stores the newest value format its serializer writes. */
    abstract static class FormatSnapshot<T> implements TypeSerializerSnapshot<T> {
        private static final int SNAPSHOT_VERSION = 1;
        private final int currentFormat;
        private int format;

        FormatSnapshot(int currentFormat) {
            this.currentFormat = currentFormat;
            this.format = currentFormat;
        }

        @Override
        public int getCurrentVersion() {
            return SNAPSHOT_VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            out.writeInt(format);
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader) throws IOException {
            if (readVersion != SNAPSHOT_VERSION) {
                throw new IOException("unknown snapshot version " + readVersion + " of " + getClass().getSimpleName());
            }
            format = in.readInt();
        }

        @Override
        public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> old) {
            if (old.getClass() != getClass()) {
                return TypeSerializerSchemaCompatibility.incompatible();
            }
            // Values carry their format byte and this build reads every format up to its own.
            return ((FormatSnapshot<T>) old).format <= currentFormat
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }

    /** Stored bytes that no build wrote: an unknown format byte or an impossible length. */
    static final class CorruptStateException extends IOException {
        CorruptStateException(String message) {
            super(message);
        }
    }

    /** Longest float or id array a stored value may hold (hidden sizes and de-duplication windows are far smaller). */
    static final int MAX_ARRAY_LENGTH = 1 << 16;

    static void checkFormat(byte format, int newest, String what) throws IOException {
        if (format < 1 || format > newest) {
            throw new CorruptStateException("unknown " + what + " format " + format + " (this build reads formats 1.."
                    + newest + ")");
        }
    }

    static int checkedLength(int n, String what) throws IOException {
        if (n < 0 || n > MAX_ARRAY_LENGTH) {
            throw new CorruptStateException("impossible length " + n + " of " + what);
        }
        return n;
    }

    static void writeFloats(float[] v, DataOutputView out) throws IOException {
        out.writeInt(v.length);
        for (float f : v) {
            out.writeFloat(f);
        }
    }

    static float[] readFloats(DataInputView in) throws IOException {
        float[] v = new float[checkedLength(in.readInt(), "a state vector")];
        for (int i = 0; i < v.length; i++) {
            v[i] = in.readFloat();
        }
        return v;
    }
}

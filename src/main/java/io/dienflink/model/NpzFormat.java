package io.dienflink.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * The NumPy {@code .npz} container: a zip of {@code .npy} files. Pure Java, so that the serving path
 * loads bundles without native code: {@link #readHeaders} reads only the headers (a bad array is
 * reported by name before any data is read), {@link #readArrays} reads the data of little-endian
 * float32 and int64 arrays in C order, and {@link #write} writes uncompressed archives as
 * {@code np.savez} does.
 */
public final class NpzFormat {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private NpzFormat() {}

    /** What an {@code .npy} header declares. */
    public record Header(String descr, boolean fortranOrder, int[] shape, boolean compressed) {
        /** The number of elements the shape holds. */
        public long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Element types {@link #readArrays} reads: the bundle's weights and vocabularies. */
    public static final String FLOAT32 = "<f4";
    public static final String INT64 = "<i8";

    /**
     * Every array of an npz file with its data, in archive order. Entries may be stored or deflated.
     * Only little-endian float32 ({@code <f4}) and int64 ({@code <i8}) arrays in C order are read.
     *
     * @param file the npz file
     * @param label how errors name the file, e.g. {@code weights.npz}
     * @throws BundleFormatException naming the entry ({@code label: array}) that has another element type,
     *     is in Fortran order, is truncated or cannot be read
     */
    public static Map<String, NpyArray> readArrays(Path file, String label) {
        return readArrays(file, label, name -> true);
    }

    /**
     * Like {@link #readArrays(Path, String)}, reading only the arrays whose names {@code wanted} accepts
     * (a bundle's npz may hold arrays its manifest does not use, of any type).
     */
    public static Map<String, NpyArray> readArrays(Path file, String label, java.util.function.Predicate<String> wanted) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        forEachEntry(file, label, (array, entry, in) -> {
            if (wanted.test(array)) {
                out.put(array, readNpy(in, label + ": " + array));
            }
        });
        return out;
    }

    /** What {@link #forEachEntry} hands over: an entry's array name (without {@code .npy}) and its stream. */
    @FunctionalInterface
    public interface EntryReader {
        void read(String array, ZipEntry entry, InputStream in) throws IOException;
    }

    /**
     * Opens every {@code .npy} entry of an npz file in archive order (stored or deflated).
     *
     * @param label how errors name the file
     * @throws BundleFormatException for an entry that is not {@code .npy} or a file that is no readable zip
     */
    public static void forEachEntry(Path file, String label, EntryReader reader) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.isDirectory()) {
                    continue;
                }
                String name = e.getName();
                if (!name.endsWith(".npy")) {
                    throw new BundleFormatException(label + ": " + name, "is not an .npy entry");
                }
                try (InputStream in = zip.getInputStream(e)) {
                    reader.read(name.substring(0, name.length() - 4), e, in);
                }
            }
        } catch (IOException e) {
            throw new BundleFormatException(label, "is not a readable npz (zip) file: " + e.getMessage(), e);
        }
    }

    /**
     * One {@code .npy} array from a stream positioned at its magic.
     *
     * @param field how errors name the array
     */
    static NpyArray readNpy(InputStream in, String field) throws IOException {
        Header h = parseHeader(in, field);
        if (h.fortranOrder()) {
            throw new BundleFormatException(field, "is stored in Fortran order (fortran_order: True); only C order is read");
        }
        int itemSize;
        if (FLOAT32.equals(h.descr())) {
            itemSize = 4;
        } else if (INT64.equals(h.descr())) {
            itemSize = 8;
        } else {
            throw new BundleFormatException(field, "has dtype " + h.descr() + "; only " + FLOAT32
                    + " (float32, little-endian) and " + INT64 + " (int64, little-endian) are read");
        }
        long bytes = h.elements() * itemSize;
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new BundleFormatException(field, "has " + h.elements() + " elements, too many for one array");
        }
        byte[] data = in.readNBytes((int) bytes);
        if (data.length != bytes) {
            throw new BundleFormatException(field, "is truncated: shape " + java.util.Arrays.toString(h.shape())
                    + " needs " + bytes + " data bytes, the entry has " + data.length);
        }
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (itemSize == 4) {
            float[] f = new float[(int) h.elements()];
            buf.asFloatBuffer().get(f);
            return NpyArray.ofFloats(h.shape(), f);
        }
        long[] l = new long[(int) h.elements()];
        buf.asLongBuffer().get(l);
        return NpyArray.ofLongs(h.shape(), l);
    }

    /**
     * The headers of every array in an npz file, in archive order.
     *
     * @param file the npz file
     * @param label how errors name the file, e.g. {@code weights.npz}
     * @throws BundleFormatException naming the array whose header cannot be read
     */
    public static Map<String, Header> readHeaders(Path file, String label) {
        Map<String, Header> out = new LinkedHashMap<>();
        forEachEntry(file, label, (array, entry, in) -> {
            Header h = parseHeader(in, label + ": " + array);
            out.put(array, new Header(h.descr(), h.fortranOrder(), h.shape(), entry.getMethod() != ZipEntry.STORED));
        });
        return out;
    }

    /**
     * Reads an {@code .npy} header (magic, version, header dictionary) from the stream's position,
     * leaving it at the first data byte. Any element type is accepted: callers decide what they read.
     *
     * @param field how errors name the array
     * @throws BundleFormatException naming {@code field} for a bad magic, version or header
     */
    public static Header parseHeader(InputStream in, String field) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length < 8 || !java.util.Arrays.equals(pre, 0, 6, MAGIC, 0, 6)) {
            throw new BundleFormatException(field, "is not an .npy array (bad magic)");
        }
        int major = pre[6] & 0xff;
        int headerLen;
        if (major == 1) {
            byte[] len = in.readNBytes(2);
            headerLen = (len[0] & 0xff) | (len[1] & 0xff) << 8;
        } else if (major == 2 || major == 3) {
            byte[] len = in.readNBytes(4);
            headerLen = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
        } else {
            throw new BundleFormatException(field, "has unsupported .npy version " + major);
        }
        String dict = new String(in.readNBytes(headerLen), StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(dict);
        Matcher f = FORTRAN.matcher(dict);
        Matcher s = SHAPE.matcher(dict);
        if (!d.find() || !f.find() || !s.find()) {
            throw new BundleFormatException(field, "has an unreadable .npy header: " + dict.trim());
        }
        List<Integer> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String t = part.trim();
            if (!t.isEmpty()) {
                try {
                    dims.add(Integer.parseInt(t));
                } catch (NumberFormatException e) {
                    throw new BundleFormatException(field, "has an unreadable shape in its .npy header: " + dict.trim());
                }
                if (dims.get(dims.size() - 1) < 0) {
                    throw new BundleFormatException(field, "has a negative dimension in its .npy header: " + dict.trim());
                }
            }
        }
        return new Header(d.group(1), "True".equals(f.group(1)), dims.stream().mapToInt(Integer::intValue).toArray(), false);
    }

    /** Writes the arrays as an uncompressed npz, in map order, as {@code np.savez} would. */
    public static void write(OutputStream out, Map<String, NpyArray> arrays) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            byte[] npy = toNpy(e.getValue());
            ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
            entry.setMethod(ZipEntry.STORED);
            entry.setSize(npy.length);
            entry.setCompressedSize(npy.length);
            CRC32 crc = new CRC32();
            crc.update(npy);
            entry.setCrc(crc.getValue());
            entry.setTime(0L); // reproducible bytes: the same arrays always give the same file
            zip.putNextEntry(entry);
            zip.write(npy);
            zip.closeEntry();
        }
        zip.finish();
    }

    /** One array in {@code .npy} format version 1.0. */
    static byte[] toNpy(NpyArray a) {
        StringBuilder shape = new StringBuilder("(");
        int[] dims = a.shape();
        for (int i = 0; i < dims.length; i++) {
            shape.append(dims[i]).append(dims.length == 1 ? "," : i + 1 < dims.length ? ", " : "");
        }
        shape.append(')');
        String dict = "{'descr': '" + a.descr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(MAGIC);
        bytes.write(1);
        bytes.write(0);
        bytes.write(header.length() & 0xff);
        bytes.write(header.length() >>> 8);
        bytes.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        bytes.writeBytes(dataBytes(a));
        return bytes.toByteArray();
    }

    /** The raw little-endian element bytes of an array. */
    static byte[] dataBytes(NpyArray a) {
        Object data = a.data();
        ByteBuffer buf;
        if (data instanceof float[] f) {
            buf = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(f);
        } else if (data instanceof long[] l) {
            buf = ByteBuffer.allocate(l.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            buf.asLongBuffer().put(l);
        } else if (data instanceof double[] d) {
            buf = ByteBuffer.allocate(d.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            buf.asDoubleBuffer().put(d);
        } else if (data instanceof int[] i) {
            buf = ByteBuffer.allocate(i.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asIntBuffer().put(i);
        } else {
            throw new IllegalStateException("unsupported element type " + data.getClass());
        }
        return buf.array();
    }
}

package io.dienflink.bundleimport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The variables of another framework, read from an {@code .npz} written by {@code numpy.savez}
 * (or {@code savez_compressed}) under the framework's own names. Float32 and float64 arrays are
 * accepted (TensorFlow and PyTorch export float32, NumPy defaults to float64), little- or big-endian;
 * integer arrays too (a step counter), so that they can be recognised and skipped by name.
 *
 * <p>This reader is independent of the bundle loader on purpose: the source is not a bundle, its
 * names hold {@code /} and {@code .}, and its dtypes are not the bundle's.
 */
public final class SourceWeights {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private final Map<String, Tensor> arrays;

    SourceWeights(Map<String, Tensor> arrays) {
        this.arrays = arrays;
    }

    /** Variable name to array, in archive order. */
    Map<String, Tensor> arrays() {
        return arrays;
    }

    /**
     * Reads every array of an npz file.
     *
     * @throws ImportException naming the file or the variable that cannot be read
     */
    public static SourceWeights read(Path file) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.isDirectory()) {
                    continue;
                }
                String name = e.getName();
                if (!name.endsWith(".npy")) {
                    throw new ImportException(file + ": entry " + name + " is not an .npy array");
                }
                String variable = name.substring(0, name.length() - 4);
                try (InputStream in = zip.getInputStream(e)) {
                    out.put(variable, readNpy(in, file.getFileName() + ": " + variable));
                }
            }
        } catch (IOException e) {
            throw new ImportException(file + " is not a readable npz (zip) file: " + e.getMessage(), e);
        }
        return new SourceWeights(out);
    }

    private static Tensor readNpy(InputStream in, String label) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length < 8 || !Arrays.equals(pre, 0, 6, MAGIC, 0, 6)) {
            throw new ImportException(label + " is not an .npy array (bad magic)");
        }
        int major = pre[6] & 0xff;
        int headerLen;
        if (major == 1) {
            byte[] len = in.readNBytes(2);
            headerLen = (len[0] & 0xff) | (len[1] & 0xff) << 8;
        } else if (major == 2 || major == 3) {
            headerLen = ByteBuffer.wrap(in.readNBytes(4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
        } else {
            throw new ImportException(label + " has unsupported .npy version " + major);
        }
        String dict = new String(in.readNBytes(headerLen), StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(dict);
        Matcher f = FORTRAN.matcher(dict);
        Matcher s = SHAPE.matcher(dict);
        if (!d.find() || !f.find() || !s.find()) {
            throw new ImportException(label + " has an unreadable .npy header: " + dict.trim());
        }
        List<Integer> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            if (!part.isBlank()) {
                dims.add(Integer.parseInt(part.trim()));
            }
        }
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        long n = 1;
        for (int x : shape) {
            n *= x;
        }
        String descr = d.group(1);
        if (descr.length() < 3) {
            throw new ImportException(label + " has unsupported dtype '" + descr + "'");
        }
        ByteOrder order = descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        String type = descr.substring(1);
        int width = switch (type) {
            case "f4", "i4" -> 4;
            case "f8", "i8" -> 8;
            default -> throw new ImportException(label + " has dtype '" + descr
                    + "'; expected float32 or float64 (or an integer counter)");
        };
        byte[] raw = in.readNBytes((int) (n * width));
        if (raw.length != n * width) {
            throw new ImportException(label + " is truncated: " + raw.length + " of " + n * width + " data bytes");
        }
        ByteBuffer buf = ByteBuffer.wrap(raw).order(order);
        double[] data = new double[(int) n];
        for (int i = 0; i < n; i++) {
            data[i] = switch (type) {
                case "f4" -> buf.getFloat();
                case "f8" -> buf.getDouble();
                case "i4" -> buf.getInt();
                default -> buf.getLong();
            };
        }
        Tensor t = new Tensor(shape, data);
        if ("True".equals(f.group(1))) {
            // Fortran order stores the transpose's C order; only 1-D and 2-D arrays occur in these models.
            if (shape.length > 2) {
                throw new ImportException(label + " is a Fortran-order array of rank " + shape.length + "; save it in C order");
            }
            if (shape.length == 2) {
                t = new Tensor(new int[] {shape[1], shape[0]}, data).transpose();
            }
        }
        return t;
    }
}

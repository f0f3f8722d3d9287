package io.dienflink.bundleimport;

import io.dienflink.model.BundleFormatException;
import io.dienflink.model.NpzFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The variables of another framework, read from an {@code .npz} written by {@code numpy.savez}
 * (or {@code savez_compressed}) under the framework's own names. Float32 and float64 arrays are
 * accepted (TensorFlow and PyTorch export float32, NumPy defaults to float64), little- or big-endian;
 * integer arrays too (a step counter), so that they can be recognised and skipped by name.
 *
 * <p>It shares only the {@code .npy} header parser with the bundle loader ({@link NpzFormat#parseHeader}):
 * the source is not a bundle, its names hold {@code /} and {@code .}, and its dtypes are not the bundle's.
 */
public final class SourceWeights {

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
        try {
            NpzFormat.forEachEntry(file, file.toString(),
                    (variable, entry, in) -> out.put(variable, readNpy(in, file.getFileName() + ": " + variable)));
        } catch (BundleFormatException e) {
            throw new ImportException(e.getMessage(), e);
        }
        return new SourceWeights(out);
    }

    private static Tensor readNpy(InputStream in, String label) throws IOException {
        NpzFormat.Header h;
        try {
            h = NpzFormat.parseHeader(in, label);
        } catch (BundleFormatException e) {
            throw new ImportException(e.getMessage(), e);
        }
        int[] shape = h.shape();
        long n = h.elements();
        String descr = h.descr();
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
        if (h.fortranOrder()) {
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

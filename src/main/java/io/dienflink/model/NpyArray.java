package io.dienflink.model;

import java.util.Arrays;

/**
 * One named array of a bundle's {@code weights.npz}, held on the heap in C order.
 * Bundles use little-endian float32 ({@code <f4}) weights and int64 ({@code <i8}) vocabularies;
 * other element types exist so that tests and importers can write (and the loader can reject) them.
 */
public final class NpyArray {
    private final String descr;
    private final int[] shape;
    private final Object data;

    private NpyArray(String descr, int[] shape, Object data, int length) {
        this.descr = descr;
        this.shape = shape.clone();
        this.data = data;
        long expected = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            expected *= d;
        }
        if (expected != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + expected
                    + " elements, data has " + length);
        }
    }

    public static NpyArray ofFloats(int[] shape, float[] data) {
        return new NpyArray("<f4", shape, data, data.length);
    }

    public static NpyArray ofLongs(int[] shape, long[] data) {
        return new NpyArray("<i8", shape, data, data.length);
    }

    public static NpyArray ofDoubles(int[] shape, double[] data) {
        return new NpyArray("<f8", shape, data, data.length);
    }

    public static NpyArray ofInts(int[] shape, int[] data) {
        return new NpyArray("<i4", shape, data, data.length);
    }

    /** The NumPy type string, e.g. {@code <f4}. */
    public String descr() {
        return descr;
    }

    public int[] shape() {
        return shape.clone();
    }

    public boolean isFloat32() {
        return data instanceof float[];
    }

    /** The elements in C order; the array itself, not a copy. */
    public float[] floats() {
        if (!(data instanceof float[] f)) {
            throw new IllegalStateException("array is " + descr + ", not float32");
        }
        return f;
    }

    /** The elements in C order; the array itself, not a copy. */
    public long[] longs() {
        if (!(data instanceof long[] l)) {
            throw new IllegalStateException("array is " + descr + ", not int64");
        }
        return l;
    }

    Object data() {
        return data;
    }

    @Override
    public String toString() {
        return descr + Arrays.toString(shape);
    }
}

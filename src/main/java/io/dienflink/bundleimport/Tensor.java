package io.dienflink.bundleimport;

import java.util.Arrays;

/**
 * A dense array in C order held in double precision while an import transforms it: sources may be
 * float32 or float64, and the bundle gets float32 once, at the end, so transforms add no rounding.
 */
record Tensor(int[] shape, double[] data) {
    Tensor {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, data " + data.length);
        }
    }

    int rank() {
        return shape.length;
    }

    int dim(int axis) {
        return shape[axis];
    }

    String shapeString() {
        return Arrays.toString(shape);
    }

    float[] toFloats() {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) data[i];
        }
        return f;
    }

    static Tensor zeros(int... shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return new Tensor(shape.clone(), new double[(int) n]);
    }

    /** The transpose of a 2-D array. */
    Tensor transpose() {
        if (rank() != 2) {
            throw new IllegalArgumentException("transpose needs a 2-D array, got shape " + shapeString());
        }
        int r = shape[0];
        int c = shape[1];
        double[] out = new double[data.length];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                out[j * r + i] = data[i * c + j];
            }
        }
        return new Tensor(new int[] {c, r}, out);
    }

    /** Elements {@code [start, end)} along {@code axis} (0 or 1). */
    Tensor slice(int axis, int start, int end) {
        checkAxis(axis);
        if (start < 0 || end > shape[axis] || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") out of range for axis " + axis
                    + " of shape " + shapeString());
        }
        if (rank() == 1) {
            return new Tensor(new int[] {end - start}, Arrays.copyOfRange(data, start, end));
        }
        int r = shape[0];
        int c = shape[1];
        if (axis == 0) {
            return new Tensor(new int[] {end - start, c}, Arrays.copyOfRange(data, start * c, end * c));
        }
        int w = end - start;
        double[] out = new double[r * w];
        for (int i = 0; i < r; i++) {
            System.arraycopy(data, i * c + start, out, i * w, w);
        }
        return new Tensor(new int[] {r, w}, out);
    }

    /** Concatenation along {@code axis}; all other dimensions must agree. */
    static Tensor concat(int axis, java.util.List<Tensor> parts) {
        Tensor first = parts.get(0);
        int rank = first.rank();
        for (Tensor t : parts) {
            if (t.rank() != rank) {
                throw new IllegalArgumentException("concatenation of arrays of different rank");
            }
            for (int a = 0; a < rank; a++) {
                if (a != axis && t.shape[a] != first.shape[a]) {
                    throw new IllegalArgumentException("concatenation along axis " + axis + " of shapes "
                            + first.shapeString() + " and " + t.shapeString());
                }
            }
        }
        if (rank == 1 || axis == 0) {
            int total = 0;
            int n = 0;
            for (Tensor t : parts) {
                total += t.shape[0];
                n += t.data.length;
            }
            double[] out = new double[n];
            int at = 0;
            for (Tensor t : parts) {
                System.arraycopy(t.data, 0, out, at, t.data.length);
                at += t.data.length;
            }
            int[] shape = first.shape.clone();
            shape[0] = total;
            return new Tensor(shape, out);
        }
        int r = first.shape[0];
        int total = 0;
        for (Tensor t : parts) {
            total += t.shape[1];
        }
        double[] out = new double[r * total];
        int col = 0;
        for (Tensor t : parts) {
            int c = t.shape[1];
            for (int i = 0; i < r; i++) {
                System.arraycopy(t.data, i * c, out, i * total + col, c);
            }
            col += c;
        }
        return new Tensor(new int[] {r, total}, out);
    }

    void checkAxis(int axis) {
        if (axis < 0 || axis >= rank()) {
            throw new IllegalArgumentException("axis " + axis + " out of range for shape " + shapeString());
        }
    }
}

package io.dienflink.train;

import io.dienflink.model.Kernels;

/** The backward pass of the affine maps every layer has: {@code y = x·W[:, col..col+n) + b[col..col+n)}. */
final class Linear {
    private Linear() {}

    /**
     * dW += xᵀ·dy, db += dy, dx += W·dy ({@code x} has {@code in} values, W's rows have stride {@code ldw}).
     */
    static void backward(Kernels k, float[] x, int xOff, int in, float[] w, int col, int ldw, float[] dy, int dyOff, int n,
                         float[] dw, float[] db, int bCol, float[] dx, int dxOff) {
        for (int i = 0; i < in; i++) {
            k.axpy(x[xOff + i], dy, dyOff, dw, i * ldw + col, n);
            dx[dxOff + i] += k.dot(w, i * ldw + col, dy, dyOff, n);
        }
        k.add(db, bCol, dy, dyOff, db, bCol, n);
    }
}

package io.dienflink.model;

/** The paper's eq. 5 attention: {@code s_t = h_t · (W · e_a)} with {@code W [H, D]}. */
final class BilinearAttention {
    final int hidden;
    final int itemDim;
    final int stateStride;
    /** {@code W} transposed, {@code [D × pad(H)]}, so that {@code W·e_a} is one row-times-matrix. */
    final float[] wt;

    BilinearAttention(ModelBundle b) {
        ModelConfig c = b.config();
        hidden = c.hiddenDim();
        itemDim = c.itemDim();
        stateStride = Kernels.pad(hidden);
        float[] w = b.floats("attention.bilinear");
        wt = new float[itemDim * stateStride];
        for (int i = 0; i < hidden; i++) {
            for (int j = 0; j < itemDim; j++) {
                wt[j * stateStride + i] = w[i * itemDim + j];
            }
        }
    }

    void logits(Kernels k, float[] ea, int eaOff, float[] states, int rows, float[] out, int outOff, float[] scratch) {
        java.util.Arrays.fill(scratch, 0, stateStride, 0f);
        k.gemm(ea, eaOff, itemDim, wt, 0, stateStride, scratch, 0, stateStride, 1, stateStride, itemDim);
        for (int r = 0; r < rows; r++) {
            out[outOff + r] = k.dot(states, r * stateStride, scratch, 0, hidden);
        }
    }
}

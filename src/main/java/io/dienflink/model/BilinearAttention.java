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

    /** Logits of one candidate against {@code rows} state rows; {@code scratch} holds pad(H) floats. */
    void logits(Kernels k, float[] ea, int eaOff, float[] states, int rows, float[] out, int outOff, float[] scratch) {
        keys(k, ea, eaOff, itemDim, 1, scratch);
        logitsOfKey(k, scratch, 0, states, rows, out, outOff);
    }

    /**
     * {@code W·e_a} of {@code m} candidates as one product, into rows of {@code v} (stride pad(H)).
     *
     * @param items the candidates' item vectors, row r at {@code itemsOff + r·ldItem}
     */
    void keys(Kernels k, float[] items, int itemsOff, int ldItem, int m, float[] v) {
        java.util.Arrays.fill(v, 0, m * stateStride, 0f);
        k.gemm(items, itemsOff, ldItem, wt, 0, stateStride, v, 0, stateStride, m, stateStride, itemDim);
    }

    /** {@code s_r = h_r · v} for one candidate's {@code v = W·e_a} at {@code vOff} (from {@link #keys}). */
    void logitsOfKey(Kernels k, float[] v, int vOff, float[] states, int rows, float[] out, int outOff) {
        for (int r = 0; r < rows; r++) {
            out[outOff + r] = k.dot(states, r * stateStride, v, vOff, hidden);
        }
    }
}

package io.dienflink.model;

/**
 * {@code y = act(x·K + b)} for a batch of rows, with the output width padded to
 * {@link Kernels#PAD}. Padded columns have zero weights; after a sigmoid they hold 0.5, which is
 * harmless because every consumer reads only the first {@code out} columns or multiplies the
 * padding by zero weights.
 */
final class DenseLayer {
    final int in;
    final int out;
    final int width;
    final float[] kernel;
    final float[] bias;
    final Activation activation;
    final float[] slope;
    final float[] diceMean;
    final float[] diceInvStd;
    final float[] diceAlpha;

    DenseLayer(int in, int out, float[] kernel, float[] bias, Activation activation,
               float[] slope, float[] diceMean, float[] diceVar, float[] diceAlpha) {
        this.in = in;
        this.out = out;
        this.width = Kernels.pad(out);
        this.kernel = padColumns(kernel, in, out, width);
        this.bias = padColumns(bias, 1, out, width);
        this.activation = activation;
        this.slope = slope == null ? null : padColumns(slope, 1, out, width);
        this.diceMean = diceMean == null ? null : padColumns(diceMean, 1, out, width);
        this.diceAlpha = diceAlpha == null ? null : padColumns(diceAlpha, 1, out, width);
        if (diceVar != null) {
            diceInvStd = new float[width];
            for (int i = 0; i < out; i++) {
                // MODEL_BUNDLE.md: (v − mean) / sqrt(var + 1e-8), with the division turned into a product once.
                diceInvStd[i] = (float) (1.0 / Math.sqrt(diceVar[i] + 1e-8));
            }
        } else {
            diceInvStd = null;
        }
    }

    /** Rows of {@code y} (stride {@code ldy}) become {@code act(x·K + b)}. */
    void forward(Kernels k, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy, int m) {
        for (int r = 0; r < m; r++) {
            System.arraycopy(bias, 0, y, yOff + r * ldy, width);
        }
        k.gemm(x, xOff, ldx, kernel, 0, width, y, yOff, ldy, m, width, in);
        activate(k, y, yOff, ldy, m);
    }

    /** Applies the activation to {@code m} rows of pre-activations in place. */
    void activate(Kernels k, float[] y, int yOff, int ldy, int m) {
        for (int r = 0; r < m; r++) {
            int off = yOff + r * ldy;
            switch (activation) {
                case SIGMOID -> k.sigmoid(y, off, width);
                case RELU -> k.relu(y, off, width);
                case PRELU -> k.prelu(y, off, slope, 0, width);
                case DICE -> k.dice(y, off, diceMean, diceInvStd, diceAlpha, width);
            }
        }
    }

    /** Copies a row-major {@code [rows × cols]} matrix into {@code [rows × width]}, zero-filling the rest. */
    static float[] padColumns(float[] src, int rows, int cols, int width) {
        float[] dst = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, r * cols, dst, r * width, cols);
        }
        return dst;
    }
}

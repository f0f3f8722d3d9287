package io.dienflink.model;

import java.util.List;

/**
 * The MLP head over {@code x = [e_u ; e_a ; s ; e_a ∘ s ; h']} (MODEL_BUNDLE.md section 4).
 * Batch normalisation is an affine map at inference, so it is folded into the first layer once at
 * load time. The first layer's rows split by input block: the user and history-sum blocks are
 * computed once per request; {@code e_a·K_a + (e_a ∘ s)·K_as} becomes {@code e_a·(K_a + diag(s)·K_as)}
 * with the bracket built once per request.
 */
final class Head {
    final int embeddingDim;
    final int itemDim;
    final int hidden;
    final DenseLayer first;
    final DenseLayer[] rest;
    final float[] wOut;
    final float bOut;
    final int rowUser;
    final int rowItem;
    final int rowSum;
    final int rowItemSum;
    final int rowInterest;

    Head(ModelBundle b) {
        ModelConfig c = b.config();
        embeddingDim = c.embeddingDim();
        itemDim = c.itemDim();
        hidden = c.hiddenDim();
        int x = c.headInputDim();
        ModelConfig.HeadConfig hc = c.head();
        List<Integer> layers = hc.layers();
        int n1 = layers.get(0);
        float[] k1 = b.floats("head.dense1.kernel").clone();
        float[] b1 = b.floats("head.dense1.bias").clone();
        if (hc.batchNorm()) {
            float[] gamma = b.floats("head.bn.gamma");
            float[] beta = b.floats("head.bn.beta");
            float[] mean = b.floats("head.bn.mean");
            float[] var = b.floats("head.bn.var");
            double[] bias = new double[n1];
            for (int j = 0; j < n1; j++) {
                bias[j] = b1[j];
            }
            for (int i = 0; i < x; i++) {
                double g = gamma[i] / Math.sqrt((double) var[i] + hc.batchNormEpsilon());
                double shift = beta[i] - mean[i] * g;
                for (int j = 0; j < n1; j++) {
                    bias[j] += shift * k1[i * n1 + j];
                    k1[i * n1 + j] = (float) (g * k1[i * n1 + j]);
                }
            }
            for (int j = 0; j < n1; j++) {
                b1[j] = (float) bias[j];
            }
        }
        first = layer(b, 1, x, n1, k1, b1, hc.activation());
        rest = new DenseLayer[layers.size() - 1];
        int in = n1;
        for (int i = 1; i < layers.size(); i++) {
            String p = "head.dense" + (i + 1);
            rest[i - 1] = layer(b, i + 1, in, layers.get(i), b.floats(p + ".kernel"), b.floats(p + ".bias"), hc.activation());
            in = layers.get(i);
        }
        wOut = DenseLayer.padColumns(b.floats("head.out.kernel"), 1, in, Kernels.pad(in));
        bOut = b.floats("head.out.bias")[0];
        rowUser = 0;
        rowItem = embeddingDim;
        rowSum = rowItem + itemDim;
        rowItemSum = rowSum + itemDim;
        rowInterest = rowItemSum + itemDim;
    }

    private static DenseLayer layer(ModelBundle b, int i, int in, int out, float[] kernel, float[] bias, Activation act) {
        String p = "head.dense" + i;
        return switch (act) {
            case DICE -> new DenseLayer(in, out, kernel, bias, act, null, b.floats(p + ".dice.mean"),
                    b.floats(p + ".dice.var"), b.floats(p + ".dice.alpha"));
            case PRELU -> new DenseLayer(in, out, kernel, bias, act, b.floats(p + ".prelu"), null, null, null);
            default -> new DenseLayer(in, out, kernel, bias, act, null, null, null, null);
        };
    }

    int maxWidth() {
        int w = first.width;
        for (DenseLayer l : rest) {
            w = Math.max(w, l.width);
        }
        return w;
    }

    /**
     * The request-level part: {@code base = b_1 + e_u·K_u + s·K_s} and
     * {@code itemKernel = K_a + diag(s)·K_as}.
     */
    void prepareRequest(Kernels k, float[] eu, float[] sum, float[] base, float[] itemKernel) {
        int w = first.width;
        float[] k1 = first.kernel;
        System.arraycopy(first.bias, 0, base, 0, w);
        k.gemm(eu, 0, embeddingDim, k1, rowUser * w, w, base, 0, w, 1, w, embeddingDim);
        k.gemm(sum, 0, itemDim, k1, rowSum * w, w, base, 0, w, 1, w, itemDim);
        for (int j = 0; j < itemDim; j++) {
            System.arraycopy(k1, (rowItem + j) * w, itemKernel, j * w, w);
            k.axpy(sum[j], k1, (rowItemSum + j) * w, itemKernel, j * w, w);
        }
    }

    /**
     * Logits of {@code m} candidates: rows of {@code items} (stride {@code ldItem}) and final
     * interests (stride {@code ldInterest}).
     */
    void logits(Kernels k, float[] base, float[] itemKernel, float[] items, int ldItem, float[] interests, int ldInterest,
                int m, float[] logits, int logitOff, float[] z1, float[] z2) {
        int w = first.width;
        for (int r = 0; r < m; r++) {
            System.arraycopy(base, 0, z1, r * w, w);
        }
        k.gemm(items, 0, ldItem, itemKernel, 0, w, z1, 0, w, m, w, itemDim);
        k.gemm(interests, 0, ldInterest, first.kernel, rowInterest * w, w, z1, 0, w, m, w, hidden);
        first.activate(k, z1, 0, w, m);
        int width = w;
        float[] zIn = z1;
        float[] zOut = z2;
        for (DenseLayer l : rest) {
            l.forward(k, zIn, 0, width, zOut, 0, l.width, m);
            width = l.width;
            float[] t = zIn;
            zIn = zOut;
            zOut = t;
        }
        for (int r = 0; r < m; r++) {
            logits[logitOff + r] = k.dot(zIn, r * width, wOut, 0, width) + bOut;
        }
    }
}

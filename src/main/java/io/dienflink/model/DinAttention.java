package io.dienflink.model;

import java.util.List;

/**
 * The official code's attention (MODEL_BUNDLE.md {@code din-mlp}), rewritten so that no work is
 * repeated. The first layer's product {@code [q ; h ; q − h ; q ∘ h]·W} splits into
 * {@code q·(W_a + W_c)} (once per candidate), {@code h·(W_b − W_c) + b} (once per window state and
 * request, shared by all candidates) and {@code h·(diag(q)·W_d)} (the only part that needs both).
 */
final class DinAttention {
    final int hidden;
    final int itemDim;
    final int stateStride;
    final boolean project;
    final float[] wq;
    final float[] bq;
    final float[] slope;
    /** First hidden layer: its activation, bias and derived kernels, each {@code [H × width]}. */
    final DenseLayer first;
    final float[] w1q;
    final float[] w1h;
    final float[] w1d;
    final DenseLayer[] rest;
    final float[] wOut;
    final float bOut;

    DinAttention(ModelBundle b) {
        ModelConfig c = b.config();
        hidden = c.hiddenDim();
        itemDim = c.itemDim();
        stateStride = Kernels.pad(hidden);
        ModelConfig.AttentionConfig att = c.attention();
        project = att.queryProjection();
        if (project) {
            wq = DenseLayer.padColumns(b.floats("attention.query.kernel"), itemDim, hidden, stateStride);
            bq = DenseLayer.padColumns(b.floats("attention.query.bias"), 1, hidden, stateStride);
            slope = DenseLayer.padColumns(b.floats("attention.query.prelu"), 1, hidden, stateStride);
        } else {
            wq = bq = slope = null;
        }
        List<Integer> layers = att.layers();
        int n1 = layers.get(0);
        float[] k1 = b.floats("attention.dense1.kernel");
        first = new DenseLayer(4 * hidden, n1, k1, b.floats("attention.dense1.bias"), att.activation(),
                null, null, null, null);
        int w = first.width;
        w1q = new float[hidden * w];
        w1h = new float[hidden * w];
        w1d = new float[hidden * w];
        for (int i = 0; i < hidden; i++) {
            for (int j = 0; j < n1; j++) {
                float wa = k1[i * n1 + j];
                float wb = k1[(hidden + i) * n1 + j];
                float wc = k1[(2 * hidden + i) * n1 + j];
                float wd = k1[(3 * hidden + i) * n1 + j];
                w1q[i * w + j] = wa + wc;
                w1h[i * w + j] = wb - wc;
                w1d[i * w + j] = wd;
            }
        }
        rest = new DenseLayer[layers.size() - 1];
        int in = n1;
        for (int i = 1; i < layers.size(); i++) {
            String p = "attention.dense" + (i + 1);
            rest[i - 1] = new DenseLayer(in, layers.get(i), b.floats(p + ".kernel"), b.floats(p + ".bias"),
                    att.activation(), null, null, null, null);
            in = layers.get(i);
        }
        wOut = DenseLayer.padColumns(b.floats("attention.out.kernel"), 1, in, Kernels.pad(in));
        bOut = b.floats("attention.out.bias")[0];
    }

    /** Width of the per-state projection {@code h·(W_b − W_c) + b}. */
    int projectionWidth() {
        return first.width;
    }

    /** Width of the widest hidden layer, for scratch sizing. */
    int maxWidth() {
        int w = first.width;
        for (DenseLayer l : rest) {
            w = Math.max(w, l.width);
        }
        return w;
    }

    /** {@code proj[r] = h_r·(W_b − W_c) + b_1} for the k stored state rows. */
    void projectStates(Kernels k, float[] states, int rows, float[] proj) {
        int w = first.width;
        for (int r = 0; r < rows; r++) {
            System.arraycopy(first.bias, 0, proj, r * w, w);
        }
        k.gemm(states, 0, stateStride, w1h, 0, w, proj, 0, w, rows, w, hidden);
    }

    /**
     * Attention logits {@code s_r} of one candidate against {@code rows} state rows (in storage order).
     *
     * @param ea the candidate's item vector at {@code eaOff}
     * @param proj the rows' projections from {@link #projectStates}
     */
    void logits(Kernels k, float[] ea, int eaOff, float[] states, int rows, float[] proj,
                float[] out, int outOff, Workspace ws) {
        queries(k, ea, eaOff, itemDim, 1, ws.query, ws.queryPart);
        logitsOfQuery(k, ws.query, 0, ws.queryPart, 0, states, rows, proj, out, outOff, ws);
    }

    /** Row stride of {@link #queries}' {@code q} output. */
    int queryStride() {
        return Math.max(stateStride, Kernels.pad(itemDim));
    }

    /**
     * The candidate-only part for {@code m} candidates at once: {@code q = PReLU(e_a·W_q + b_q)} (or
     * {@code e_a} without projection) into rows of {@code q} (stride {@link #queryStride()}), and
     * {@code q·(W_a + W_c)} into rows of {@code qa} (stride {@link #projectionWidth()}), each one
     * matrix product over all candidates.
     *
     * @param items the candidates' item vectors, row r at {@code itemsOff + r·ldItem}
     */
    void queries(Kernels k, float[] items, int itemsOff, int ldItem, int m, float[] q, float[] qa) {
        int qs = queryStride();
        int w = first.width;
        if (project) {
            for (int r = 0; r < m; r++) {
                System.arraycopy(bq, 0, q, r * qs, stateStride);
            }
            k.gemm(items, itemsOff, ldItem, wq, 0, stateStride, q, 0, qs, m, stateStride, itemDim);
            for (int r = 0; r < m; r++) {
                k.prelu(q, r * qs, slope, 0, stateStride);
            }
        } else {
            // D == H here (ModelConfig checks it); lanes past D stay zero, as nothing else writes them
            for (int r = 0; r < m; r++) {
                System.arraycopy(items, itemsOff + r * ldItem, q, r * qs, itemDim);
            }
        }
        java.util.Arrays.fill(qa, 0, m * w, 0f);
        k.gemm(q, 0, qs, w1q, 0, w, qa, 0, w, m, w, hidden);
    }

    /**
     * Attention logits of one candidate whose query parts {@link #queries} computed, against
     * {@code rows} state rows (in storage order): the per-(candidate, state) work, {@code h·(diag(q)·W_d)}
     * and the hidden layers, as products over the rows.
     *
     * @param q the candidate's query row at {@code qOff}
     * @param qa its {@code q·(W_a + W_c)} row at {@code qaOff}
     * @param proj the rows' projections from {@link #projectStates}
     */
    void logitsOfQuery(Kernels k, float[] q, int qOff, float[] qa, int qaOff, float[] states, int rows, float[] proj,
                       float[] out, int outOff, Workspace ws) {
        int hs = stateStride;
        int w = first.width;
        float[] mc = ws.mixed;
        for (int i = 0; i < hidden; i++) {
            k.scale(w1d, i * w, q[qOff + i], mc, i * w, w);
        }
        float[] z = ws.z1;
        for (int r = 0; r < rows; r++) {
            k.add(proj, r * w, qa, qaOff, z, r * w, w);
        }
        k.gemm(states, 0, hs, mc, 0, w, z, 0, w, rows, w, hidden);
        first.activate(k, z, 0, w, rows);
        int width = w;
        float[] zIn = z;
        float[] zOut = ws.z2;
        for (DenseLayer l : rest) {
            l.forward(k, zIn, 0, width, zOut, 0, l.width, rows);
            width = l.width;
            float[] t = zIn;
            zIn = zOut;
            zOut = t;
        }
        for (int r = 0; r < rows; r++) {
            out[outOff + r] = k.dot(zIn, r * width, wOut, 0, width) + bOut;
        }
    }

    /** Scratch owned by a {@link DienScorer}. */
    static final class Workspace {
        final float[] query;
        final float[] queryPart;
        final float[] mixed;
        float[] z1 = new float[0];
        float[] z2 = new float[0];

        Workspace(DinAttention a) {
            query = new float[a.queryStride()];
            queryPart = new float[a.first.width];
            mixed = new float[a.hidden * a.first.width];
        }

        void ensureRows(DinAttention a, int rows) {
            int need = rows * a.maxWidth();
            if (z1.length < need) {
                z1 = new float[need];
                z2 = new float[need];
            }
        }
    }
}

package io.dienflink.train;

import io.dienflink.model.Kernels;
import java.util.Arrays;

/**
 * DIN's use of the history: the item vectors pooled with attention weights, the candidate's item
 * vector as the query ({@code pooled = Σ a_t e_t}, D wide).
 */
final class AttentionPooling implements Interest {
    private final int d;
    private final Attention attention;
    private final Kernels k;

    AttentionPooling(Parameters params, TrainConfig cfg, Kernels k) {
        this.d = cfg.itemDim();
        this.k = k;
        attention = new Attention(params, d, cfg.attentionLayers(), k);
    }

    @Override
    public int width() {
        return d;
    }

    @Override
    public Pass newPass(int maxHistory) {
        return new Pooling(maxHistory);
    }

    private final class Pooling implements Pass {
        private final Attention.Trace att;
        private final float[] q = new float[d];
        private final float[] pooled = new float[d];
        private final float[] dq = new float[d];
        private final float[] dWeights;

        Pooling(int maxHistory) {
            att = attention.newTrace(maxHistory);
            dWeights = new float[maxHistory];
        }

        @Override
        public void forward(Sample s, int first, Network.Workspace w, float[] x, int off) {
            int n = w.length;
            System.arraycopy(w.ea, 0, q, 0, d);
            attention.forward(att, q, w.items, n);
            Arrays.fill(pooled, 0f);
            for (int t = 0; t < n; t++) {
                k.axpy(att.weights[t], w.items, t * d, pooled, 0, d);
            }
            System.arraycopy(pooled, 0, x, off, d);
        }

        @Override
        public void backward(Sample s, int first, Network.Workspace w, float[] dx, int off, Network.Gradients g) {
            int n = w.length;
            for (int t = 0; t < n; t++) {
                dWeights[t] = k.dot(dx, off, w.items, t * d, d);
                k.axpy(att.weights[t], dx, off, w.dItems, t * d, d);
            }
            Arrays.fill(dq, 0f);
            attention.backward(att, dWeights, q, w.items, n, dq, w.dItems, g);
            k.add(w.dea, 0, dq, 0, w.dea, 0, d);
        }

        @Override
        public double withAuxiliaryLoss(double loss, Network.Workspace w) {
            return loss;
        }
    }
}

package io.dienflink.train;

import io.dienflink.model.Kernels;
import java.util.Arrays;

/**
 * DIEN's use of the history: the interest extractor GRU over the item vectors (trained also by the
 * auxiliary loss, which asks each state h_t to score the next click above a sampled negative), the
 * attention of the projected candidate ({@link QueryProjection}) over the states, and the AUGRU
 * evolver whose last state, the final interest (H wide), goes to the head.
 */
final class InterestEvolution implements Interest {
    private final int d;
    private final int h;
    private final double auxWeight;
    private final Embeddings embeddings;
    private final GruLayer extractor;
    private final GruLayer evolver;
    private final QueryProjection query;
    private final Attention attention;
    private final Kernels k;

    /** Creates the extractor, the evolver, the query projection and the attention's parameters, in bundle order. */
    InterestEvolution(Parameters params, TrainConfig cfg, Embeddings embeddings, Kernels k) {
        this.d = cfg.itemDim();
        this.h = cfg.hiddenDim();
        this.auxWeight = cfg.auxWeight();
        this.embeddings = embeddings;
        this.k = k;
        extractor = new GruLayer(params, "extractor", d, h, k);
        evolver = new GruLayer(params, "evolver", h, h, k);
        query = new QueryProjection(params, d, h, k);
        attention = new Attention(params, h, cfg.attentionLayers(), k);
    }

    @Override
    public int width() {
        return h;
    }

    @Override
    public Pass newPass(int maxHistory) {
        return new Evolution(maxHistory);
    }

    private final class Evolution implements Pass {
        private final GruLayer.Trace ext;
        private final GruLayer.Trace evo;
        private final Attention.Trace att;
        /** The extractor's states h_t, {@code [T × H]}: the keys of the attention and the evolver's input. */
        private final float[] states;
        /** The sampled negatives' item vectors, at the positions of the clicks they stand against. */
        private final float[] negatives;
        private final float[] auxPos;
        private final float[] auxNeg;
        private final float[] qpre = new float[h];
        private final float[] q = new float[h];
        private final float[] interest = new float[h];
        /** The state before the first step. */
        private final float[] zero = new float[h];
        private final float[] dStates;
        private final float[] dInterest = new float[h];
        private final float[] dPrev = new float[h];
        private final float[] dHidden = new float[h];
        private final float[] dOut = new float[h];
        private final float[] dq = new float[h];
        private final float[] dqPre = new float[h];
        private final float[] dNegative = new float[d];
        private final float[] dWeights;

        Evolution(int maxHistory) {
            ext = extractor.newTrace(maxHistory);
            evo = evolver.newTrace(maxHistory);
            att = attention.newTrace(maxHistory);
            states = new float[maxHistory * h];
            negatives = new float[maxHistory * d];
            auxPos = new float[maxHistory];
            auxNeg = new float[maxHistory];
            dStates = new float[maxHistory * h];
            dWeights = new float[maxHistory];
        }

        @Override
        public void forward(Sample s, int first, Network.Workspace w, float[] x, int off) {
            int n = w.length;
            Arrays.fill(interest, 0f);
            for (int t = 0; t < n; t++) {
                extractor.forward(ext, t, w.items, t * d, t == 0 ? zero : ext.out, t == 0 ? 0 : (t - 1) * h, 0f);
            }
            System.arraycopy(ext.out, 0, states, 0, n * h);
            // auxiliary loss: h_t should score the next click above a sampled negative
            for (int t = 0; t + 1 < n; t++) {
                embeddings.itemVector(s.negativeItems()[first + t + 1], s.negativeCategories()[first + t + 1], negatives,
                        (t + 1) * d);
                auxPos[t] = k.dot(states, t * h, w.items, (t + 1) * d, h);
                auxNeg[t] = k.dot(states, t * h, negatives, (t + 1) * d, h);
            }
            query.forward(w.ea, qpre, q);
            attention.forward(att, q, states, n);
            for (int t = 0; t < n; t++) {
                // the evolver reads the extractor states; a_t scales its keep gate
                evolver.forward(evo, t, states, t * h, t == 0 ? zero : evo.out, t == 0 ? 0 : (t - 1) * h, att.weights[t]);
            }
            if (n > 0) {
                System.arraycopy(evo.out, (n - 1) * h, interest, 0, h);
            }
            System.arraycopy(interest, 0, x, off, h);
        }

        @Override
        public void backward(Sample s, int first, Network.Workspace w, float[] dx, int off, Network.Gradients g) {
            int n = w.length;
            Arrays.fill(dStates, 0, n * h, 0f);
            // evolver, newest step first; d(interest) comes from the head
            System.arraycopy(dx, off, dInterest, 0, h);
            for (int t = n - 1; t >= 0; t--) {
                Arrays.fill(dPrev, 0f);
                dWeights[t] = evolver.backward(evo, t, states, t * h, t == 0 ? zero : evo.out, t == 0 ? 0 : (t - 1) * h,
                        att.weights[t], dInterest, dPrev, dStates, t * h, g);
                System.arraycopy(dPrev, 0, dInterest, 0, h);
            }
            // attention: the projected query against the states
            Arrays.fill(dq, 0f);
            attention.backward(att, dWeights, q, states, n, dq, dStates, g);
            query.backward(w.ea, qpre, dq, dqPre, w.dea, g);
            // auxiliary loss: −log σ(h_t·e_{t+1}) − log(1 − σ(h_t·e⁻_{t+1})), averaged over the pairs
            if (n > 1) {
                float scale = (float) (auxWeight / (n - 1));
                for (int t = 0; t + 1 < n; t++) {
                    float sp = Kernels.sigmoid(auxPos[t]);
                    float sn = Kernels.sigmoid(auxNeg[t]);
                    g.auxLoss += -(Math.log(Math.max(sp, 1e-7f)) + Math.log(Math.max(1 - sn, 1e-7f))) / (n - 1);
                    float dp = scale * (sp - 1f);
                    float dn = scale * sn;
                    k.axpy(dp, w.items, (t + 1) * d, dStates, t * h, h);
                    k.axpy(dn, negatives, (t + 1) * d, dStates, t * h, h);
                    k.axpy(dp, states, t * h, w.dItems, (t + 1) * d, h);
                    Arrays.fill(dNegative, 0f);
                    k.axpy(dn, states, t * h, dNegative, 0, h);
                    embeddings.addItemGradient(g, s.negativeItems()[first + t + 1], s.negativeCategories()[first + t + 1],
                            dNegative, 0);
                }
            }
            // extractor, newest step first; dStates holds what attention, evolver and aux loss sent each h_t
            Arrays.fill(dHidden, 0f);
            for (int t = n - 1; t >= 0; t--) {
                k.add(dStates, t * h, dHidden, 0, dHidden, 0, h);
                System.arraycopy(dHidden, 0, dOut, 0, h);
                Arrays.fill(dHidden, 0f);
                extractor.backward(ext, t, w.items, t * d, t == 0 ? zero : ext.out, t == 0 ? 0 : (t - 1) * h, 0f, dOut,
                        dHidden, w.dItems, t * d, g);
            }
        }

        @Override
        public double withAuxiliaryLoss(double loss, Network.Workspace w) {
            int n = w.length;
            if (n < 2) {
                return loss;
            }
            double aux = 0;
            for (int t = 0; t + 1 < n; t++) {
                aux -= Math.log(Kernels.sigmoid(auxPos[t])) + Math.log(1 - Kernels.sigmoid(auxNeg[t]));
            }
            return loss + auxWeight * aux / (n - 1);
        }
    }
}

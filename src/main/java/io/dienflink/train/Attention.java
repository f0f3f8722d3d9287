package io.dienflink.train;

import io.dienflink.model.Kernels;
import java.util.List;

/**
 * DIN's attention ({@code din-mlp}): for a query q and each of n keys k_t, a sigmoid {@link Mlp}
 * ({@code attention.*}) scores {@code [q ; k_t ; q − k_t ; q ∘ k_t]}, and a softmax over the n
 * scores gives the weights. The backward pass takes d(loss)/d(weights) through the softmax and the
 * MLP into the query and the keys.
 */
final class Attention {
    private final Mlp mlp;
    private final int kd;
    private final Kernels k;

    /** @param keyDim the width of the query and of each key */
    Attention(Parameters params, int keyDim, List<Integer> layers, Kernels k) {
        this.kd = keyDim;
        this.k = k;
        mlp = new Mlp(params, "attention", 4 * keyDim, layers, false, k);
    }

    /** One thread's record of a pass over up to T keys. */
    final class Trace {
        private final Mlp.Trace rows;
        private final float[] scores;
        /** The softmax weights of the last forward pass. */
        final float[] weights;
        private final float[] dScores;
        private final float[] dz = new float[4 * kd];

        Trace(int keys) {
            rows = mlp.newTrace(keys);
            scores = new float[keys];
            weights = new float[keys];
            dScores = new float[keys];
        }
    }

    Trace newTrace(int keys) {
        return new Trace(keys);
    }

    /** Scores the n keys (rows of {@code keys}, {@code keyDim} wide) against {@code q}; the softmax goes to {@code tr.weights}. */
    void forward(Trace tr, float[] q, float[] keys, int n) {
        float max = Float.NEGATIVE_INFINITY;
        float[] z = tr.rows.in;
        for (int t = 0; t < n; t++) {
            int zo = t * 4 * kd;
            for (int i = 0; i < kd; i++) {
                float qi = q[i];
                float key = keys[t * kd + i];
                z[zo + i] = qi;
                z[zo + kd + i] = key;
                z[zo + 2 * kd + i] = qi - key;
                z[zo + 3 * kd + i] = qi * key;
            }
            tr.scores[t] = mlp.forward(tr.rows, z, zo, t);
            max = Math.max(max, tr.scores[t]);
        }
        double total = 0;
        for (int t = 0; t < n; t++) {
            tr.weights[t] = (float) Math.exp(tr.scores[t] - max);
            total += tr.weights[t];
        }
        for (int t = 0; t < n; t++) {
            tr.weights[t] /= (float) total;
        }
    }

    /**
     * Backward of the last forward pass, given d(loss)/d(weight) per key: adds the query's gradient
     * to {@code dq} and each key's to its row of {@code dKeys}.
     */
    void backward(Trace tr, float[] dWeights, float[] q, float[] keys, int n, float[] dq, float[] dKeys,
                  Network.Gradients g) {
        float dot = 0f;
        for (int t = 0; t < n; t++) {
            dot += tr.weights[t] * dWeights[t];
        }
        for (int t = 0; t < n; t++) {
            tr.dScores[t] = tr.weights[t] * (dWeights[t] - dot);
        }
        float[] dz = tr.dz;
        for (int t = 0; t < n; t++) {
            java.util.Arrays.fill(dz, 0, 4 * kd, 0f);
            mlp.backward(tr.rows, t, tr.dScores[t], dz, 0, g);
            for (int i = 0; i < kd; i++) {
                float qi = q[i];
                float key = keys[t * kd + i];
                dq[i] += dz[i] + dz[2 * kd + i] + dz[3 * kd + i] * key;
                dKeys[t * kd + i] += dz[kd + i] - dz[2 * kd + i] + dz[3 * kd + i] * qi;
            }
        }
    }
}

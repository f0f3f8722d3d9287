package io.dienflink.train;

import io.dienflink.model.Kernels;

/**
 * DIEN's attention query: the candidate's item vector projected to the hidden size, PReLU(e_a·W_q +
 * b_q), so that it can be compared with the extractor's states ({@code attention.query.kernel},
 * {@code .bias}, {@code .prelu}).
 */
final class QueryProjection {
    private final int in;
    private final int out;
    final Network.Param w;
    final Network.Param b;
    final Network.Param slope;
    private final Kernels k;

    QueryProjection(Parameters params, int in, int out, Kernels k) {
        this.in = in;
        this.out = out;
        this.k = k;
        w = params.glorot("attention.query.kernel", in, out);
        b = params.zeros("attention.query.bias", out);
        slope = params.constant("attention.query.prelu", out, 0.25f);
    }

    /** {@code q = PReLU(pre)}, {@code pre = x·W_q + b_q}; both kept for the backward pass. */
    void forward(float[] x, float[] pre, float[] q) {
        k.gemv(x, 0, in, w.value, 0, out, b.value, 0, pre, 0, out);
        for (int i = 0; i < out; i++) {
            q[i] = pre[i] > 0 ? pre[i] : slope.value[i] * pre[i];
        }
    }

    /** Backward given d(loss)/d(q): adds d(loss)/d(x) to {@code dX}; {@code dPre} is scratch of the output's width. */
    void backward(float[] x, float[] pre, float[] dq, float[] dPre, float[] dX, Network.Gradients g) {
        float[] dSlope = g.of(slope);
        for (int i = 0; i < out; i++) {
            if (pre[i] > 0) {
                dPre[i] = dq[i];
            } else {
                dPre[i] = dq[i] * slope.value[i];
                dSlope[i] += dq[i] * pre[i];
            }
        }
        Linear.backward(k, x, 0, in, w.value, 0, out, dPre, 0, out, g.of(w), g.of(b), 0, dX, 0);
    }
}

package io.dienflink.train;

import java.util.Map;

/**
 * Adam (Kingma & Ba) over the network's parameters. Embedding tables are updated lazily: only the
 * rows a minibatch touched move, and only their moments decay, as in TensorFlow's LazyAdam (the
 * official DIEN code's sparse updates); bias correction uses the global step.
 */
final class Adam {
    private final Network net;
    private final double lr;
    private final double beta1 = 0.9;
    private final double beta2 = 0.999;
    private final double eps = 1e-8;
    private final float[][] m;
    private final float[][] v;
    private long step;

    Adam(Network net, double lr) {
        this.net = net;
        this.lr = lr;
        m = new float[net.params.size()][];
        v = new float[net.params.size()][];
        for (Network.Param p : net.params) {
            m[p.index] = new float[p.value.length];
            v[p.index] = new float[p.value.length];
        }
    }

    /** One update with gradients summed over {@code batch} samples (they are averaged here). */
    void step(Network.Gradients g, int batch) {
        step++;
        double c1 = 1 - Math.pow(beta1, step);
        double c2 = 1 - Math.pow(beta2, step);
        double rate = lr * Math.sqrt(c2) / c1;
        float inv = 1f / batch;
        for (Network.Param p : net.params) {
            if (p.sparse) {
                int e = p.shape[1];
                for (Map.Entry<Integer, float[]> row : g.rows[p.index].entrySet()) {
                    update(p, row.getKey() * e, row.getValue(), 0, e, inv, rate);
                }
            } else {
                update(p, 0, g.dense[p.index], 0, p.value.length, inv, rate);
            }
        }
    }

    private void update(Network.Param p, int off, float[] grad, int gOff, int n, float inv, double rate) {
        float[] w = p.value;
        float[] mm = m[p.index];
        float[] vv = v[p.index];
        for (int i = 0; i < n; i++) {
            double gi = grad[gOff + i] * inv;
            int j = off + i;
            mm[j] = (float) (beta1 * mm[j] + (1 - beta1) * gi);
            vv[j] = (float) (beta2 * vv[j] + (1 - beta2) * gi * gi);
            w[j] -= (float) (rate * mm[j] / (Math.sqrt(vv[j]) + eps));
        }
    }
}

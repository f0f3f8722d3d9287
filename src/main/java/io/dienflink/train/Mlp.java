package io.dienflink.train;

import io.dienflink.model.Kernels;
import java.util.Arrays;
import java.util.List;

/**
 * Dense layers with an activation, PReLU (the head) or sigmoid (the attention), then a one-unit
 * output layer: parameters {@code <prefix>.dense<i>.kernel}, {@code .bias} (and {@code .prelu}),
 * {@code <prefix>.out.kernel}, {@code .out.bias}. Runs row by row; a {@link Trace} keeps each row's
 * pre-activations and activations for the backward pass.
 */
final class Mlp {
    final int in;
    final int[] widths;
    final Network.Param[] w;
    final Network.Param[] b;
    /** PReLU slopes per layer; null entries for sigmoid layers. */
    final Network.Param[] slope;
    final Network.Param wOut;
    final Network.Param bOut;
    private final boolean prelu;
    private final Kernels k;

    Mlp(Parameters params, String prefix, int in, List<Integer> layers, boolean prelu, Kernels k) {
        this.in = in;
        this.prelu = prelu;
        this.k = k;
        widths = layers.stream().mapToInt(Integer::intValue).toArray();
        w = new Network.Param[widths.length];
        b = new Network.Param[widths.length];
        slope = new Network.Param[widths.length];
        int width = in;
        for (int i = 0; i < widths.length; i++) {
            String p = prefix + ".dense" + (i + 1);
            w[i] = params.glorot(p + ".kernel", width, widths[i]);
            b[i] = params.zeros(p + ".bias", widths[i]);
            if (prelu) {
                slope[i] = params.constant(p + ".prelu", widths[i], 0.25f);
            }
            width = widths[i];
        }
        wOut = params.glorot(prefix + ".out.kernel", width, 1);
        bOut = params.zeros(prefix + ".out.bias", 1);
    }

    /** One thread's record of up to {@code rows} rows, and a row's backward buffers. */
    final class Trace {
        final float[][] pre;
        final float[][] act;
        /** The rows' inputs, {@code [rows × in]}. */
        final float[] in;
        private final float[] dPre;
        private final float[] dAct;
        private final float[] dNext;

        Trace(int rows) {
            pre = new float[widths.length][];
            act = new float[widths.length][];
            for (int i = 0; i < widths.length; i++) {
                pre[i] = new float[rows * widths[i]];
                act[i] = new float[rows * widths[i]];
            }
            in = new float[rows * Mlp.this.in];
            int widest = Arrays.stream(widths).max().orElse(1);
            dPre = new float[widest];
            dAct = new float[widest];
            dNext = new float[widest];
        }
    }

    Trace newTrace(int rows) {
        return new Trace(rows);
    }

    /** Row {@code row} with its input at {@code x[xOff..]} (which may be the trace's own input row); returns the output logit. */
    float forward(Trace tr, float[] x, int xOff, int row) {
        if (x != tr.in) {
            System.arraycopy(x, xOff, tr.in, row * in, in);
        }
        float[] src = tr.in;
        int srcOff = row * in;
        int width = in;
        for (int l = 0; l < widths.length; l++) {
            int wl = widths[l];
            float[] pre = tr.pre[l];
            float[] act = tr.act[l];
            int o = row * wl;
            k.gemv(src, srcOff, width, w[l].value, 0, wl, b[l].value, 0, pre, o, wl);
            for (int i = 0; i < wl; i++) {
                float v = pre[o + i];
                act[o + i] = prelu ? (v > 0 ? v : slope[l].value[i] * v) : Kernels.sigmoid(v);
            }
            src = act;
            srcOff = o;
            width = wl;
        }
        return k.dot(src, srcOff, wOut.value, 0, width) + bOut.value[0];
    }

    /** Row {@code row} backward, given d(loss)/d(output logit); adds d(loss)/d(input) to {@code dX}. */
    void backward(Trace tr, int row, float dLogit, float[] dX, int dXOff, Network.Gradients g) {
        int layers = widths.length; // at least one: ModelConfig and TrainConfig require it
        // the last hidden layer's activations feed the output unit
        int lastWidth = widths[layers - 1];
        int lastOff = row * lastWidth;
        float[] dwo = g.of(wOut);
        k.axpy(dLogit, tr.act[layers - 1], lastOff, dwo, 0, lastWidth);
        g.of(bOut)[0] += dLogit;
        float[] dAct = tr.dAct;
        k.scale(wOut.value, 0, dLogit, dAct, 0, lastWidth);
        float[] dPre = tr.dPre;
        for (int l = layers - 1; l >= 0; l--) {
            int wl = widths[l];
            int o = row * wl;
            float[] pre = tr.pre[l];
            for (int i = 0; i < wl; i++) {
                float v = pre[o + i];
                if (prelu) {
                    if (v > 0) {
                        dPre[i] = dAct[i];
                    } else {
                        dPre[i] = dAct[i] * slope[l].value[i];
                        g.of(slope[l])[i] += dAct[i] * v;
                    }
                } else {
                    float a = tr.act[l][o + i];
                    dPre[i] = dAct[i] * a * (1f - a);
                }
            }
            int inWidth = l == 0 ? in : widths[l - 1];
            float[] x = l == 0 ? tr.in : tr.act[l - 1];
            int xOff = row * inWidth;
            if (l == 0) {
                Linear.backward(k, x, xOff, inWidth, w[l].value, 0, wl, dPre, 0, wl, g.of(w[l]), g.of(b[l]), 0, dX, dXOff);
            } else {
                // the layer below's activation gradient: the other buffer, cleared, then swapped in
                float[] dNext = dAct == tr.dAct ? tr.dNext : tr.dAct;
                Arrays.fill(dNext, 0, inWidth, 0f);
                Linear.backward(k, x, xOff, inWidth, w[l].value, 0, wl, dPre, 0, wl, g.of(w[l]), g.of(b[l]), 0, dNext, 0);
                dAct = dNext;
            }
        }
    }
}

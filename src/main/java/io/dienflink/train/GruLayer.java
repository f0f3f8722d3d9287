package io.dienflink.train;

import io.dienflink.model.Kernels;
import java.util.Arrays;

/**
 * A GRU cell as the bundle's cells compute it (TF1: the reset gate multiplies the previous state
 * before the candidate's recurrent product; gate columns r, u, c), which becomes the official
 * code's AUGRU when a step is given an attention weight a: the update gate u is scaled by (1 − a).
 * Parameters {@code <prefix>.kernel_x}, {@code kernel_h}, {@code bias_x}, {@code bias_h}.
 */
final class GruLayer {
    final int in;
    private final int h;
    final Network.Param kx;
    final Network.Param kh;
    final Network.Param bx;
    final Network.Param bh;
    private final Kernels k;

    GruLayer(Parameters params, String prefix, int in, int hidden, Kernels k) {
        this.in = in;
        this.h = hidden;
        this.k = k;
        kx = params.glorot(prefix + ".kernel_x", in, 3 * hidden);
        kh = params.glorot(prefix + ".kernel_h", hidden, 3 * hidden);
        bx = params.zeros(prefix + ".bias_x", 3 * hidden);
        bh = params.zeros(prefix + ".bias_h", 3 * hidden);
    }

    /** One thread's record of a pass of up to T steps (what the backward pass needs), and a step's backward buffers. */
    final class Trace {
        final float[] gx;
        final float[] gh;
        final float[] r;
        final float[] u0;
        final float[] u;
        final float[] rh;
        final float[] c;
        /** The state after each step, {@code [T × H]}. */
        final float[] out;
        private final float[] dg = new float[3 * h];
        private final float[] dRh = new float[h];

        Trace(int steps) {
            gx = new float[steps * 3 * h];
            gh = new float[steps * 3 * h];
            r = new float[steps * h];
            u0 = new float[steps * h];
            u = new float[steps * h];
            rh = new float[steps * h];
            c = new float[steps * h];
            out = new float[steps * h];
        }
    }

    Trace newTrace(int steps) {
        return new Trace(steps);
    }

    /** Step t from the state at {@code prev[prevOff..]}; {@code a} is the AUGRU attention weight (0 for a plain GRU). */
    void forward(Trace tr, int t, float[] x, int xOff, float[] prev, int prevOff, float a) {
        int g = t * 3 * h;
        int o = t * h;
        k.gemv(x, xOff, in, kx.value, 0, 3 * h, bx.value, 0, tr.gx, g, 3 * h);
        // reset before: the r and u columns of K_h from h, the c columns from r ∘ h
        k.gemv(prev, prevOff, h, kh.value, 0, 3 * h, bh.value, 0, tr.gh, g, 2 * h);
        for (int i = 0; i < h; i++) {
            float r = Kernels.sigmoid(tr.gx[g + i] + tr.gh[g + i]);
            float u0 = Kernels.sigmoid(tr.gx[g + h + i] + tr.gh[g + h + i]);
            tr.r[o + i] = r;
            tr.u0[o + i] = u0;
            tr.u[o + i] = (1f - a) * u0;
            tr.rh[o + i] = r * prev[prevOff + i];
        }
        k.gemv(tr.rh, o, h, kh.value, 2 * h, 3 * h, bh.value, 2 * h, tr.gh, g + 2 * h, h);
        for (int i = 0; i < h; i++) {
            float c = (float) Math.tanh(tr.gx[g + 2 * h + i] + tr.gh[g + 2 * h + i]);
            tr.c[o + i] = c;
            float u = tr.u[o + i];
            tr.out[o + i] = u * prev[prevOff + i] + (1f - u) * c;
        }
    }

    /**
     * Step t backward: {@code dOut} is the gradient of the step's output state; the previous
     * state's is added to {@code dPrev} and the input's to {@code dX}, the parameters' to {@code g}.
     * At the first step {@code prev} is zeros. Returns d(loss)/d(a), the AUGRU attention weight's
     * gradient (0 for a plain GRU).
     */
    float backward(Trace tr, int t, float[] x, int xOff, float[] prev, int prevOff, float a, float[] dOut, float[] dPrev,
                   float[] dX, int dXOff, Network.Gradients g) {
        int o = t * h;
        float[] dg = tr.dg;
        float[] dRh = tr.dRh;
        Arrays.fill(dRh, 0f);
        float da = 0f;
        for (int i = 0; i < h; i++) {
            float hp = prev[prevOff + i];
            float dh = dOut[i];
            float u = tr.u[o + i];
            float c = tr.c[o + i];
            dPrev[i] += dh * u;
            float du = dh * (hp - c);
            float dc = dh * (1f - u);
            float dcpre = dc * (1f - c * c);
            dg[2 * h + i] = dcpre; // d(gx_c) = d(gh_c) = dcpre
            float u0 = tr.u0[o + i];
            da -= du * u0;
            float du0 = du * (1f - a);
            dg[h + i] = du0 * u0 * (1f - u0);
        }
        // gh_c = (r ∘ h_prev)·K_h.c + b_h.c
        float[] dkh = g.of(kh);
        float[] dbh = g.of(bh);
        Linear.backward(k, tr.rh, o, h, kh.value, 2 * h, 3 * h, dg, 2 * h, h, dkh, dbh, 2 * h, dRh, 0);
        for (int i = 0; i < h; i++) {
            float hp = prev[prevOff + i];
            float r = tr.r[o + i];
            dPrev[i] += dRh[i] * r;
            float dr = dRh[i] * hp;
            dg[i] = dr * r * (1f - r);
        }
        // gh_ru = h_prev·K_h.ru + b_h.ru (a zero h_prev adds nothing to K_h's gradient)
        Linear.backward(k, prev, prevOff, h, kh.value, 0, 3 * h, dg, 0, 2 * h, dkh, dbh, 0, dPrev, 0);
        // gx = x·K_x + b_x
        Linear.backward(k, x, xOff, in, kx.value, 0, 3 * h, dg, 0, 3 * h, g.of(kx), g.of(bx), 0, dX, dXOff);
        return da;
    }
}

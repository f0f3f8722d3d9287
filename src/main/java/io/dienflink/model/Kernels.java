package io.dienflink.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The float32 primitives every DIEN layer is built from, on plain {@code float[]} with offsets so
 * that the hot path allocates nothing. This base class is the portable scalar implementation;
 * {@link #best()} returns a SIMD implementation on the JDK Vector API when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}.
 *
 * <p>All matrices are row-major. Layers pad their output widths to a multiple of {@link #PAD}
 * floats with zero weights so that SIMD loops need no tail; callers may pass any sizes, though.
 * Instances are stateless and thread-safe.
 */
public class Kernels {
    /** Widths are padded to this many floats: one 512-bit vector, or two 256-bit ones. */
    public static final int PAD = 16;

    private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
    private static final Kernels SCALAR = new Kernels();
    private static volatile Kernels best;

    protected Kernels() {}

    /** The portable implementation (also the reference the SIMD one is tested against). */
    public static Kernels scalar() {
        return SCALAR;
    }

    /**
     * The fastest implementation this JVM can run: the Vector API one when the incubator module is
     * present (and the system property {@code dien.kernels} is not {@code scalar}), else {@link #scalar()}.
     */
    public static Kernels best() {
        Kernels k = best;
        if (k == null) {
            synchronized (Kernels.class) {
                k = best;
                if (k == null) {
                    k = best = choose();
                }
            }
        }
        return k;
    }

    private static Kernels choose() {
        String forced = System.getProperty("dien.kernels", "auto");
        if ("scalar".equals(forced)) {
            LOG.info("Using scalar kernels (dien.kernels=scalar)");
            return SCALAR;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                Kernels v = (Kernels) Class.forName("io.dienflink.model.VectorKernels").getDeclaredConstructor().newInstance();
                LOG.info("Using Vector API kernels ({})", v.describe());
                return v;
            } catch (ReflectiveOperationException | LinkageError e) {
                LOG.warn("Vector API kernels unavailable, using scalar kernels", e);
                return SCALAR;
            }
        }
        LOG.warn("JVM started without --add-modules jdk.incubator.vector: using scalar kernels, about 5-20x slower");
        return SCALAR;
    }

    /** A short name for logs and benchmark reports. */
    public String describe() {
        return "scalar";
    }

    /**
     * Floats per SIMD register: 1 for these scalar kernels. A layout that puts one candidate in each
     * lane (the batched AUGRU) rounds its candidate count up to a multiple of this, not of
     * {@link #PAD}, so that few lanes are padding.
     */
    public int lanes() {
        return 1;
    }

    /** Rounds {@code n} up to a multiple of {@link #PAD}. */
    public static int pad(int n) {
        return (n + PAD - 1) / PAD * PAD;
    }

    /** {@code C[m×n] += A[m×k] · B[k×n]}; leading dimensions are row strides. */
    public void gemm(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, int m, int n, int k) {
        for (int r = 0; r < m; r++) {
            int cr = cOff + r * ldc;
            int ar = aOff + r * lda;
            for (int i = 0; i < k; i++) {
                float ai = a[ar + i];
                int bi = bOff + i * ldb;
                for (int j = 0; j < n; j++) {
                    c[cr + j] += ai * b[bi + j];
                }
            }
        }
    }

    /**
     * {@code y[0..n) = bias[0..n) + x[0..k) · W[k×n]} for one row: the latency-bound product of a
     * recurrent step, where a 1×k by k×n product has no rows to block over.
     */
    public void gemv(float[] x, int xOff, int k, float[] w, int wOff, int ldw, float[] bias, int bOff,
                     float[] y, int yOff, int n) {
        System.arraycopy(bias, bOff, y, yOff, n);
        gemm(x, xOff, k, w, wOff, ldw, y, yOff, n, 1, n, k);
    }

    /**
     * The end of a GRU/AUGRU step, fused: {@code u = σ(xu + hu)·mul + add},
     * {@code c = tanh(xc + r ∘ hc)} (or {@code tanh(xc + hc)} when {@code r} is null), and
     * {@code h ← c + u ∘ (h − c)} in place. A plain GRU passes {@code mul = 1, add = 0}; an AUGRU
     * passes its attention scaling of the keep gate.
     */
    public void gruFinish(float[] xu, int xuOff, float[] hu, int huOff, float[] xc, int xcOff, float[] hc, int hcOff,
                          float[] r, int rOff, float[] h, int hOff, int len, float mul, float add) {
        for (int i = 0; i < len; i++) {
            float u = sigmoid(xu[xuOff + i] + hu[huOff + i]) * mul + add;
            float pre = r == null ? xc[xcOff + i] + hc[hcOff + i] : xc[xcOff + i] + r[rOff + i] * hc[hcOff + i];
            float c = (float) Math.tanh(pre);
            h[hOff + i] = c + u * (h[hOff + i] - c);
        }
    }

    /**
     * The end of a GRU/AUGRU step for a batch whose rows are the lanes (one row per candidate):
     * {@code u = σ(xu + hu) ∘ mul + add}, {@code c = tanh(xc + hc)} (or {@code tanh(xc + r ∘ hc)}
     * when {@code r} is not null), {@code h ← c + u ∘ (h − c)} in place. {@code xu} and {@code xc} are
     * one gate of the step's input projection, the same for every row; {@code mul} and {@code add}
     * are each row's attention scaling of the keep gate (see {@link #gruFinish}). {@code hu} is
     * scratch: an implementation may leave {@code u} in it.
     */
    public void gruFinishLanes(float xu, float[] hu, int huOff, float xc, float[] hc, int hcOff, float[] r, int rOff,
                               float[] mul, float[] add, int mOff, float[] h, int hOff, int len) {
        for (int i = 0; i < len; i++) {
            float u = sigmoid(xu + hu[huOff + i]) * mul[mOff + i] + add[mOff + i];
            float pre = r == null ? xc + hc[hcOff + i] : xc + r[rOff + i] * hc[hcOff + i];
            float c = (float) Math.tanh(pre);
            h[hOff + i] = c + u * (h[hOff + i] - c);
        }
    }

    /**
     * {@code out = σ(x + y) ∘ z}, or {@code σ(x + y)} when {@code z} is null, with one {@code x} for
     * all lanes: a reset gate when the rows are the lanes (see {@link #gruFinishLanes}).
     */
    public void sigmoidOfShiftTimes(float x, float[] y, int yOff, float[] z, int zOff, float[] out, int outOff, int len) {
        for (int i = 0; i < len; i++) {
            float g = sigmoid(x + y[yOff + i]);
            out[outOff + i] = z == null ? g : g * z[zOff + i];
        }
    }

    /** {@code out = σ(x + y) ∘ z}: the reset gate applied to the previous state. */
    public void sigmoidOfSumTimes(float[] x, int xOff, float[] y, int yOff, float[] z, int zOff, float[] out, int outOff, int len) {
        for (int i = 0; i < len; i++) {
            out[outOff + i] = sigmoid(x[xOff + i] + y[yOff + i]) * z[zOff + i];
        }
    }

    /** {@code out = x + y}. */
    public void add(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int len) {
        for (int i = 0; i < len; i++) {
            out[outOff + i] = x[xOff + i] + y[yOff + i];
        }
    }

    /** {@code out = s · x}. */
    public void scale(float[] x, int xOff, float s, float[] out, int outOff, int len) {
        for (int i = 0; i < len; i++) {
            out[outOff + i] = s * x[xOff + i];
        }
    }

    /** {@code y += a · x}. */
    public void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
        for (int i = 0; i < len; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /** {@code Σ a_i · b_i}. */
    public float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        float s = 0f;
        for (int i = 0; i < len; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /** {@code out = σ(x + y)}. */
    public void sigmoidOfSum(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int len) {
        for (int i = 0; i < len; i++) {
            out[outOff + i] = sigmoid(x[xOff + i] + y[yOff + i]);
        }
    }

    /** Logistic sigmoid in place. */
    public void sigmoid(float[] x, int off, int len) {
        for (int i = off; i < off + len; i++) {
            x[i] = sigmoid(x[i]);
        }
    }

    /** {@code max(0, x)} in place. */
    public void relu(float[] x, int off, int len) {
        for (int i = off; i < off + len; i++) {
            x[i] = Math.max(0f, x[i]);
        }
    }

    /** {@code max(0, x) + slope ∘ min(0, x)} in place. */
    public void prelu(float[] x, int off, float[] slope, int sOff, int len) {
        for (int i = 0; i < len; i++) {
            float v = x[off + i];
            x[off + i] = v > 0f ? v : slope[sOff + i] * v;
        }
    }

    /**
     * Dice in place with population statistics: {@code p = σ((x − mean) · invStd)},
     * {@code x = p ∘ x + alpha ∘ (1 − p) ∘ x}.
     */
    public void dice(float[] x, int off, float[] mean, float[] invStd, float[] alpha, int len) {
        for (int i = 0; i < len; i++) {
            float v = x[off + i];
            float p = sigmoid((v - mean[i]) * invStd[i]);
            x[off + i] = v * (p + alpha[i] * (1f - p));
        }
    }

    /** {@code exp(x − shift)} in place; returns the sum of the results. */
    public float expShifted(float[] x, int off, int len, float shift) {
        float sum = 0f;
        for (int i = off; i < off + len; i++) {
            float e = (float) Math.exp(x[i] - shift);
            x[i] = e;
            sum += e;
        }
        return sum;
    }

    /** Scalar logistic sigmoid, computed in double and rounded once. */
    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }
}

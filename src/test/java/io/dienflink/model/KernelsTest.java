package io.dienflink.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernels against the scalar ones on sizes that exercise every micro-kernel and
 * tail: rows not a multiple of 4, columns not a multiple of the vector length, offsets and strides.
 */
class KernelsTest {
    private static final Kernels VECTOR = Kernels.best();
    private static final Kernels SCALAR = Kernels.scalar();
    private final SplittableRandom rnd = new SplittableRandom(17);

    private float[] random(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 4 - 2);
        }
        return a;
    }

    @Test
    void vectorKernelsAreInUse() {
        assertThat(VECTOR.describe()).startsWith("vector");
    }

    @Test
    void gemmMatchesScalarForAllShapes() {
        int[] ms = {1, 2, 3, 4, 5, 6, 7, 9, 10, 100};
        int[] ns = {1, 15, 16, 17, 48, 64, 80, 112, 129, 208};
        int[] ks = {1, 3, 36, 37};
        for (int m : ms) {
            for (int n : ns) {
                for (int k : ks) {
                    int lda = k + 3;
                    int ldb = n + 5;
                    int ldc = n + 2;
                    float[] a = random(2 + m * lda);
                    float[] b = random(1 + k * ldb);
                    float[] c0 = random(3 + m * ldc);
                    float[] c1 = c0.clone();
                    SCALAR.gemm(a, 2, lda, b, 1, ldb, c0, 3, ldc, m, n, k);
                    VECTOR.gemm(a, 2, lda, b, 1, ldb, c1, 3, ldc, m, n, k);
                    assertThat(c1).as("m=%d n=%d k=%d", m, n, k).containsExactly(c0, within(1e-4f));
                }
            }
        }
    }

    @Test
    void elementwiseKernelsMatchScalar() {
        for (int len : new int[] {1, 7, 16, 36, 48, 81}) {
            float[] x = random(len + 2);
            float[] y = random(len + 3);
            float[] z = random(len + 1);
            float[] mean = random(len);
            float[] inv = random(len);
            float[] alpha = random(len);
            float[] slope = random(len + 1);
            for (int op = 0; op < 18; op++) {
                float[] o0 = new float[len + 4];
                float[] o1 = new float[len + 4];
                float r0 = apply(SCALAR, op, x, y, z, mean, inv, alpha, slope, o0, len);
                float r1 = apply(VECTOR, op, x, y, z, mean, inv, alpha, slope, o1, len);
                assertThat(o1).as("op %d len %d", op, len).containsExactly(o0, within(2e-5f));
                assertThat(r1).as("op %d len %d result", op, len).isCloseTo(r0, within(2e-5f * (1 + Math.abs(r0))));
            }
        }
    }

    private static float apply(Kernels k, int op, float[] x, float[] y, float[] z, float[] mean, float[] inv,
                               float[] alpha, float[] slope, float[] out, int len) {
        switch (op) {
            case 0 -> k.add(x, 2, y, 3, out, 1, len);
            case 1 -> k.sigmoidOfSumTimes(x, 1, y, 2, z, 0, out, 0, len);
            case 2 -> k.scale(x, 2, 0.7f, out, 4, len);
            case 3 -> {
                System.arraycopy(y, 0, out, 0, len);
                k.axpy(-1.3f, x, 1, out, 0, len);
            }
            case 4 -> {
                System.arraycopy(x, 0, out, 1, len);
                k.gruFinish(x, 1, y, 0, y, 2, z, 1, null, 0, out, 1, len, 0.3f, 0.6f);
            }
            case 5 -> k.sigmoidOfSum(x, 0, y, 1, out, 2, len);
            case 6 -> {
                System.arraycopy(y, 0, out, 0, len);
                k.gruFinish(x, 2, y, 0, z, 0, x, 1, y, 2, out, 0, len, 1f, 0f);
            }
            case 7 -> {
                // a 1-row product: k = len, n = len + 3 columns (vector blocks and a tail)
                float[] w = new float[len * (len + 3)];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) Math.sin(i);
                }
                float[] bias = new float[len + 3];
                java.util.Arrays.fill(bias, 0.5f);
                float[] big = new float[len + 4];
                k.gemv(x, 1, len, w, 0, len + 3, bias, 0, big, 1, len + 3);
                System.arraycopy(big, 0, out, 0, len + 4);
            }
            case 8 -> k.gemv(y, 0, 3, x, 0, 1, z, 0, out, 2, 1);
            case 9 -> {
                System.arraycopy(x, 0, out, 0, len);
                k.sigmoid(out, 0, len);
            }
            case 10 -> {
                System.arraycopy(x, 1, out, 2, len);
                k.relu(out, 2, len);
            }
            case 11 -> {
                System.arraycopy(x, 0, out, 0, len);
                k.prelu(out, 0, slope, 1, len);
            }
            case 12 -> {
                System.arraycopy(y, 0, out, 1, len);
                k.dice(out, 1, mean, inv, alpha, len);
            }
            case 13 -> {
                System.arraycopy(x, 0, out, 0, len);
                return k.expShifted(out, 0, len, 1.5f) + k.dot(x, 1, y, 2, len);
            }
            case 14 -> k.sigmoidOfShiftTimes(-0.4f, x, 1, z, 0, out, 2, len);
            case 15 -> k.sigmoidOfShiftTimes(0.9f, y, 2, null, 0, out, 0, len);
            case 16 -> {
                // AUGRU end with lanes, reset before (no r), per-lane keep-gate factors
                System.arraycopy(z, 0, out, 1, len);
                // hu is scratch the vector kernels overwrite: a copy, so both implementations read the same input
                k.gruFinishLanes(0.3f, x.clone(), 1, -0.2f, y, 0, null, 0, mean, alpha, 0, out, 1, len);
            }
            case 17 -> {
                // reset after: c = tanh(xc + r ∘ hc)
                System.arraycopy(z, 0, out, 0, len);
                k.gruFinishLanes(-1.1f, y.clone(), 2, 0.5f, x, 0, inv, 0, alpha, mean, 0, out, 0, len);
            }
            default -> throw new IllegalArgumentException();
        }
        return 0f;
    }
}

package io.dienflink.model;

/**
 * How closely two runs of the same computation agree. The JDK's vector {@code EXP} (which the
 * kernels' sigmoid and tanh are built on) runs as SVML code once C2 has compiled it and as
 * {@code StrictMath} before, and the two differ in the last bit, so the same request scored by a
 * restarted job (or by {@code score}, or by the consistency checker in another JVM) agrees to an ulp
 * or two, not bit for bit. {@code KernelReproducibilityTest}
 * measures the interpreted-vs-compiled spread on a full trace (1.0 ulp at most) and fails above
 * {@link #MAX_ULPS}.
 */
public final class Reproducibility {
    /** The enforced bound, in float32 ulps of 1 (the scale of states, attention weights and CTRs). */
    public static final int MAX_ULPS = 4;
    /** The same bound as an absolute tolerance for values of magnitude ≤ 1, such as a CTR. */
    public static final float TOLERANCE = MAX_ULPS * Math.ulp(1f);

    private Reproducibility() {}
}

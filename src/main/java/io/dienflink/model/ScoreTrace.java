package io.dienflink.model;

/**
 * The intermediate values of one scoring call (MODEL_BUNDLE.md section 6 names), for debugging,
 * golden tests and parity checks. Arrays are indexed by candidate, then by window position
 * (oldest first).
 */
public final class ScoreTrace {
    /** The window's extractor states, oldest first ({@code [k][H]}). */
    public float[][] windowStates = new float[0][];
    /** Attention weights per candidate ({@code [n][k]}). */
    public final float[][] attention;
    /** The AUGRU's final interest per candidate ({@code [n][H]}). */
    public final float[][] finalInterest;
    public final float[] logit;
    public final float[] ctr;

    ScoreTrace(int n) {
        attention = new float[n][];
        finalInterest = new float[n][];
        logit = new float[n];
        ctr = new float[n];
    }
}

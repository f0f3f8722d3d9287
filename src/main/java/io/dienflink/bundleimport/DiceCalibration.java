package io.dienflink.bundleimport;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.ModelConfig;
import io.dienflink.model.NpyArray;
import io.dienflink.model.ScoreTrace;
import io.dienflink.model.Semantics;
import io.dienflink.train.RawSample;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Population statistics for Dice layers whose source normalises with the current batch's mean and
 * variance (the official DIEN code does so even at inference, script/Dice.py lines 15-21). Runs the
 * imported model over example data (windowed semantics: the example's last T clicks, as the
 * official code's {@code maxlen} truncation) and stores, per Dice layer in order, the mean and
 * variance of its input over all examples, with each earlier layer already using its calibrated
 * statistics. The result equals the source's output for one batch holding all the examples.
 */
public final class DiceCalibration {
    private static final Logger LOG = LoggerFactory.getLogger(DiceCalibration.class);
    /** The spec's Dice epsilon: {@code p = σ((v − mean) / sqrt(var + 1e-8))}. */
    static final double BUNDLE_EPS = 1e-8;
    /** The official code's Dice epsilon, used twice: {@code (v − mean) / (sqrt(var + 1e-9) + 1e-9)}. */
    static final double TF1_EPS = 1e-9;

    private DiceCalibration() {}

    /**
     * Returns {@code bundle} with every {@code head.dense{i}.dice.mean/var} estimated from {@code samples}.
     *
     * @param flavour how the source computes Dice: {@code tf1-official}
     * @throws ImportException if the bundle has no Dice head, the flavour is unknown or there are no samples
     */
    public static ModelBundle calibrate(ModelBundle bundle, List<RawSample> samples, String flavour) {
        ModelConfig cfg = bundle.config();
        if (cfg.head().activation() != io.dienflink.model.Activation.DICE) {
            throw new ImportException("--calibrate: the imported head has no Dice layers (head.activation "
                    + cfg.head().activation().json() + ")");
        }
        if (!"tf1-official".equals(flavour)) {
            throw new ImportException("--calibrate: unknown Dice flavour '" + flavour + "' (known: tf1-official)");
        }
        if (samples.isEmpty()) {
            throw new ImportException("--calibrate: the data has no examples");
        }
        int n = samples.size();
        float[][] x = headInputs(bundle, samples);
        Map<String, NpyArray> arrays = new LinkedHashMap<>(bundle.arrays());
        double[][] act = new double[n][];
        for (int s = 0; s < n; s++) {
            act[s] = batchNorm(cfg, bundle, x[s]);
        }
        for (int l = 1; l <= cfg.head().layers().size(); l++) {
            String p = "head.dense" + l;
            NpyArray k = bundle.array(p + ".kernel");
            int in = k.shape()[0];
            int out = k.shape()[1];
            float[] kw = k.floats();
            float[] b = bundle.floats(p + ".bias");
            double[][] v = new double[n][out];
            double[] mean = new double[out];
            for (int s = 0; s < n; s++) {
                for (int j = 0; j < out; j++) {
                    double acc = b[j];
                    for (int i = 0; i < in; i++) {
                        acc += act[s][i] * kw[i * out + j];
                    }
                    v[s][j] = acc;
                    mean[j] += acc;
                }
            }
            for (int j = 0; j < out; j++) {
                mean[j] /= n;
            }
            double[] var = new double[out];
            for (int s = 0; s < n; s++) {
                for (int j = 0; j < out; j++) {
                    double d = v[s][j] - mean[j];
                    var[j] += d * d;
                }
            }
            float[] meanF = new float[out];
            float[] varF = new float[out];
            double[] scale = new double[out];
            for (int j = 0; j < out; j++) {
                var[j] /= n;
                // The official (v − m) / (sqrt(var + 1e-9) + 1e-9) written as the spec's (v − m) / sqrt(var' + 1e-8).
                double denom = Math.sqrt(var[j] + TF1_EPS) + TF1_EPS;
                meanF[j] = (float) mean[j];
                varF[j] = (float) Math.max(0.0, denom * denom - BUNDLE_EPS);
                scale[j] = 1.0 / Math.sqrt(varF[j] + BUNDLE_EPS);
            }
            arrays.put(p + ".dice.mean", NpyArray.ofFloats(new int[] {out}, meanF));
            arrays.put(p + ".dice.var", NpyArray.ofFloats(new int[] {out}, varF));
            float[] alpha = bundle.floats(p + ".dice.alpha");
            for (int s = 0; s < n; s++) {
                double[] next = new double[out];
                for (int j = 0; j < out; j++) {
                    double pr = 1.0 / (1.0 + Math.exp(-(v[s][j] - meanF[j]) * scale[j]));
                    next[j] = pr * v[s][j] + alpha[j] * (1 - pr) * v[s][j];
                }
                act[s] = next;
            }
            LOG.info("calibrated {} over {} examples", p, n);
        }
        return ModelBundle.of(cfg, arrays);
    }

    private static double[] batchNorm(ModelConfig cfg, ModelBundle b, float[] x) {
        double[] out = new double[x.length];
        if (!cfg.head().batchNorm()) {
            for (int i = 0; i < x.length; i++) {
                out[i] = x[i];
            }
            return out;
        }
        float[] g = b.floats("head.bn.gamma");
        float[] be = b.floats("head.bn.beta");
        float[] m = b.floats("head.bn.mean");
        float[] v = b.floats("head.bn.var");
        for (int i = 0; i < x.length; i++) {
            out[i] = (x[i] - m[i]) / Math.sqrt(v[i] + cfg.head().batchNormEpsilon()) * g[i] + be[i];
        }
        return out;
    }

    /**
     * The head input {@code [e_u ; e_a ; s ; e_a ∘ s ; h']} of each example, windowed semantics; the
     * final interest comes from the production scorer, the rest from the bundle's embeddings.
     */
    static float[][] headInputs(ModelBundle bundle, List<RawSample> samples) {
        ModelConfig cfg = bundle.config();
        DienModel model = DienModel.from(bundle);
        DienScorer scorer = model.newScorer();
        int e = cfg.embeddingDim();
        int d = cfg.itemDim();
        int h = cfg.hiddenDim();
        int t = cfg.maxHistory();
        float[] users = bundle.floats("embedding.user");
        float[] items = bundle.floats("embedding.item");
        float[] cats = bundle.floats("embedding.category");
        long[] vu = bundle.longs("vocab.user");
        long[] vi = bundle.longs("vocab.item");
        long[] vc = bundle.longs("vocab.category");
        float[][] out = new float[samples.size()][];
        for (int s = 0; s < samples.size(); s++) {
            RawSample r = samples.get(s);
            InterestState state = scorer.newState();
            for (int c = 0; c < r.items().length; c++) {
                state.append(scorer, r.items()[c], r.categories()[c]);
            }
            ScoreTrace trace = state.trace(scorer, r.user(), new long[] {r.candidateItem()},
                    new long[] {r.candidateCategory()}, 1, Semantics.WINDOWED);
            float[] x = new float[e + 3 * d + h];
            System.arraycopy(users, row(vu, r.user()) * e, x, 0, e);
            System.arraycopy(items, row(vi, r.candidateItem()) * e, x, e, e);
            System.arraycopy(cats, row(vc, r.candidateCategory()) * e, x, 2 * e, e);
            int from = Math.max(0, r.items().length - t);
            for (int c = from; c < r.items().length; c++) {
                int ri = row(vi, r.items()[c]) * e;
                int rc = row(vc, r.categories()[c]) * e;
                for (int j = 0; j < e; j++) {
                    x[e + d + j] += items[ri + j];
                    x[e + d + e + j] += cats[rc + j];
                }
            }
            for (int j = 0; j < d; j++) {
                x[e + 2 * d + j] = x[e + j] * x[e + d + j];
            }
            System.arraycopy(trace.finalInterest[0], 0, x, e + 3 * d, h);
            out[s] = x;
        }
        return out;
    }

    private static int row(long[] vocab, long id) {
        int i = Arrays.binarySearch(vocab, id);
        return i >= 0 ? i + 1 : 0;
    }
}

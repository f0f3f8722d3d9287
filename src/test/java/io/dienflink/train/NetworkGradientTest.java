package io.dienflink.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every parameter's hand-written gradient against central finite differences of the loss, for all
 * three models, on a tiny network (E = 2, H = 4, T = 4) and samples with full, short and empty
 * histories. A wrong term anywhere in the backward pass shows up as an O(1) relative error.
 */
class NetworkGradientTest {
    private static final double EPS = 1e-3;
    /** Float32 rounding of the loss over 2·EPS: about 1e-7 / 2e-3 per unit of loss, with margin. */
    private static final double TOLERANCE = 5e-4;
    private static final float KEY_SPREAD = 8f;
    /** A wider step for the attention's smooth (sigmoid) layers: float32 rounding of the loss over 2·1e-2 is about 3e-6. */
    private static final double ATTENTION_EPS = 1e-2;
    private static final double ATTENTION_TOLERANCE = 2e-5;
    private static final float ATTENTION_GAIN = 6f;

    private static TrainConfig tiny(ModelKind kind) {
        return new TrainConfig(kind, 2, 4, 4, List.of(3, 2), List.of(5, 3), 1e-3, 4, 1, 0.7, 11, 1);
    }

    private static Sample sample(SplittableRandom r, int length, int label) {
        int[] items = new int[length];
        int[] cats = new int[length];
        int[] negItems = new int[length];
        int[] negCats = new int[length];
        for (int i = 0; i < length; i++) {
            items[i] = 1 + r.nextInt(6);
            cats[i] = 1 + r.nextInt(3);
            negItems[i] = 1 + r.nextInt(6);
            negCats[i] = 1 + r.nextInt(3);
        }
        return new Sample(1 + r.nextInt(3), items, cats, 1 + r.nextInt(6), 1 + r.nextInt(3), negItems, negCats, label);
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void analyticGradientsMatchFiniteDifferences(ModelKind kind) {
        Network net = new Network(tiny(kind), 3, 6, 3);
        SplittableRandom r = new SplittableRandom(5);
        // perturb the zero-initialised biases so that no gradient is trivially symmetric
        for (Network.Param p : net.params) {
            if (!p.sparse) {
                for (int i = 0; i < p.value.length; i++) {
                    p.value[i] += (float) (r.nextGaussian() * 0.3);
                }
            }
        }
        Network.Workspace w = net.newWorkspace();
        int checked = 0;
        // the largest finite-difference gradient seen per parameter: each must exceed twice the
        // tolerance somewhere, so that a backward pass returning 0 for it fails
        java.util.Map<String, Double> largest = new java.util.HashMap<>();
        for (Sample s : List.of(sample(r, 4, 1), sample(r, 6, 0), sample(r, 2, 1), sample(r, 0, 0))) {
            Network.Gradients g = net.newGradients();
            net.train(s, w, g);
            for (Network.Param p : net.params) {
                if (p.sparse) {
                    // every row, so that a row the backward pass forgot counts as a zero gradient
                    for (int row = 0; row < p.shape[0]; row++) {
                        float[] grad = g.rows[p.index].getOrDefault(row, new float[p.shape[1]]);
                        for (int j = 0; j < p.shape[1]; j++) {
                            largest.merge(p.name, check(net, w, s, p, row * p.shape[1] + j, grad[j]), Math::max);
                            checked++;
                        }
                    }
                } else {
                    for (int i = 0; i < p.value.length; i++) {
                        largest.merge(p.name, check(net, w, s, p, i, g.dense[p.index][i]), Math::max);
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(200);
        assertThat(largest).hasSize(net.params.size());
        // Not the attention's: at these weights its scores barely differ, its gradients are below this
        // test's tolerance, and attentionGradientsMatchFiniteDifferences checks them instead.
        largest.keySet().removeIf(name -> name.startsWith("attention."));
        largest.forEach((name, g) -> assertThat(g).as("largest |gradient| of %s", name).isGreaterThan(2 * TOLERANCE));
    }

    /**
     * The attention's backward pass, which the test above cannot see (at its weights the attention
     * scores of a history differ by about 1e-3, and their gradients are below its tolerance). Here
     * the keys are spread out (embeddings × {@value #KEY_SPREAD}, extractor weights × 3) and the
     * attention's kernels amplified (× {@value #ATTENTION_GAIN}), and its smooth layers allow a
     * wider finite-difference step with a tolerance 25 times tighter.
     */
    @ParameterizedTest
    @EnumSource(value = ModelKind.class, names = {"DIN", "DIEN"})
    void attentionGradientsMatchFiniteDifferences(ModelKind kind) {
        Network net = new Network(tiny(kind), 3, 6, 3);
        SplittableRandom r = new SplittableRandom(9);
        for (Network.Param p : net.params) {
            float scale = p.sparse ? KEY_SPREAD : p.name.startsWith("extractor.") ? 3f
                    : p.name.startsWith("attention.") && p.name.endsWith(".kernel") ? ATTENTION_GAIN : 1f;
            for (int i = 0; i < p.value.length; i++) {
                p.value[i] = p.value[i] * scale + (p.sparse ? 0f : (float) (r.nextGaussian() * 0.3));
            }
        }
        Network.Workspace w = net.newWorkspace();
        java.util.Map<String, Double> largest = new java.util.HashMap<>();
        for (Sample s : List.of(sample(r, 4, 1), sample(r, 6, 0), sample(r, 3, 1))) {
            Network.Gradients g = net.newGradients();
            net.train(s, w, g);
            for (Network.Param p : net.params) {
                if (p.name.startsWith("attention.")) {
                    for (int i = 0; i < p.value.length; i++) {
                        largest.merge(p.name, check(net, w, s, p, i, g.dense[p.index][i], ATTENTION_EPS, ATTENTION_TOLERANCE),
                                Math::max);
                    }
                }
            }
        }
        largest.remove("attention.out.bias"); // shifts every score alike: 0 through the softmax
        largest.forEach((name, g) -> assertThat(g).as("largest |gradient| of %s", name).isGreaterThan(2 * ATTENTION_TOLERANCE));
    }

    /** Checks one element; returns |numeric gradient|. */
    private static double check(Network net, Network.Workspace w, Sample s, Network.Param p, int i, float analytic) {
        return check(net, w, s, p, i, analytic, EPS, TOLERANCE);
    }

    private static double check(Network net, Network.Workspace w, Sample s, Network.Param p, int i, float analytic,
                                double eps, double tolerance) {
        float keep = p.value[i];
        p.value[i] = (float) (keep + eps);
        double up = net.loss(s, w);
        p.value[i] = (float) (keep - eps);
        double down = net.loss(s, w);
        p.value[i] = keep;
        double numeric = (up - down) / (2 * eps);
        assertThat((double) analytic).as("%s[%d], history %d", p.name, i, s.items().length)
                .isCloseTo(numeric, org.assertj.core.api.Assertions.within(tolerance + 0.01 * Math.abs(numeric)));
        return Math.abs(numeric);
    }
}

package io.dienflink.bundleimport;

import static io.dienflink.bundleimport.Fixtures.affine;
import static io.dienflink.bundleimport.Fixtures.concat;
import static io.dienflink.bundleimport.Fixtures.random;
import static io.dienflink.bundleimport.Fixtures.row;
import static io.dienflink.bundleimport.Fixtures.sigmoid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.NpyArray;
import io.dienflink.model.Semantics;
import io.dienflink.train.OfficialFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tf1-official preset against a direct implementation of the official code's forward pass
 * (github mouna99/dien script/model.py Model_DIN_V2_Gru_Vec_attGru_Neg, script/utils.py, script/Dice.py,
 * TensorFlow 1 GRUCell), written here in the source's own layout: fused {@code [input ; state]}
 * kernels, r|u gate columns, a two-class softmax output and Dice with batch statistics.
 */
class TfOfficialImportTest {
    private static final Logger LOG = LoggerFactory.getLogger(TfOfficialImportTest.class);
    static final int E = 3;
    static final int D = 2 * E;
    static final int H = D; // the official code's HIDDEN_SIZE = 2 * EMBEDDING_DIM
    static final int A1 = 5;
    static final int A2 = 4;
    static final int F1 = 7;
    static final int F2 = 5;
    static final int X = E + 3 * D + H;
    static final int USERS = 4;
    static final int ITEMS = 8; // row 0 is default_mid
    static final int CATS = 4; // row 0 is default_cat

    @TempDir
    Path dir;

    record Example(String user, String item, String cat, List<String> histItems, List<String> histCats) {}

    /** The source's variables by their checkpoint names. */
    static Map<String, double[]> weights(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, double[]> w = new LinkedHashMap<>();
        w.put("uid_embedding_var", random(rnd, 0.5, USERS, E));
        w.put("mid_embedding_var", random(rnd, 0.5, ITEMS, E));
        w.put("cat_embedding_var", random(rnd, 0.5, CATS, E));
        w.put("gru1/gates/kernel", random(rnd, 0.5, D + H, 2 * H));
        w.put("gru1/gates/bias", random(rnd, 0.5, 2 * H));
        w.put("gru1/candidate/kernel", random(rnd, 0.5, D + H, H));
        w.put("gru1/candidate/bias", random(rnd, 0.5, H));
        w.put("f1_1_1/kernel", random(rnd, 0.5, D, H));
        w.put("f1_1_1/bias", random(rnd, 0.2, H));
        w.put("prelu_", random(rnd, 0.3, H));
        w.put("f1_att1_1/kernel", random(rnd, 0.5, 4 * H, A1));
        w.put("f1_att1_1/bias", random(rnd, 0.2, A1));
        w.put("f2_att1_1/kernel", random(rnd, 0.5, A1, A2));
        w.put("f2_att1_1/bias", random(rnd, 0.2, A2));
        w.put("f3_att1_1/kernel", random(rnd, 1.0, A2, 1));
        w.put("f3_att1_1/bias", random(rnd, 0.2, 1));
        w.put("gru2/gates/kernel", random(rnd, 0.5, 2 * H, 2 * H));
        w.put("gru2/gates/bias", random(rnd, 0.5, 2 * H));
        w.put("gru2/candidate/kernel", random(rnd, 0.5, 2 * H, H));
        w.put("gru2/candidate/bias", random(rnd, 0.5, H));
        w.put("bn1/gamma", random(rnd, 0.3, X));
        w.put("bn1/beta", random(rnd, 0.3, X));
        w.put("bn1/moving_mean", random(rnd, 0.3, X));
        double[] mv = random(rnd, 0.5, X);
        for (int i = 0; i < X; i++) {
            mv[i] = (float) (1.0 + mv[i]);
        }
        w.put("bn1/moving_variance", mv);
        w.put("f1/kernel", random(rnd, 0.5, X, F1));
        w.put("f1/bias", random(rnd, 0.2, F1));
        w.put("dice_1/alphadice_1", random(rnd, 0.5, F1));
        w.put("f2/kernel", random(rnd, 0.5, F1, F2));
        w.put("f2/bias", random(rnd, 0.2, F2));
        w.put("dice_2/alphadice_2", random(rnd, 0.5, F2));
        w.put("f3/kernel", random(rnd, 0.8, F2, 2));
        w.put("f3/bias", random(rnd, 0.2, 2));
        return w;
    }

    static Map<String, int[]> shapes() {
        Map<String, int[]> s = new HashMap<>();
        s.put("uid_embedding_var", new int[] {USERS, E});
        s.put("mid_embedding_var", new int[] {ITEMS, E});
        s.put("cat_embedding_var", new int[] {CATS, E});
        s.put("gru1/gates/kernel", new int[] {D + H, 2 * H});
        s.put("gru1/gates/bias", new int[] {2 * H});
        s.put("gru1/candidate/kernel", new int[] {D + H, H});
        s.put("gru1/candidate/bias", new int[] {H});
        s.put("f1_1_1/kernel", new int[] {D, H});
        s.put("f1_1_1/bias", new int[] {H});
        s.put("prelu_", new int[] {H});
        s.put("f1_att1_1/kernel", new int[] {4 * H, A1});
        s.put("f1_att1_1/bias", new int[] {A1});
        s.put("f2_att1_1/kernel", new int[] {A1, A2});
        s.put("f2_att1_1/bias", new int[] {A2});
        s.put("f3_att1_1/kernel", new int[] {A2, 1});
        s.put("f3_att1_1/bias", new int[] {1});
        s.put("gru2/gates/kernel", new int[] {2 * H, 2 * H});
        s.put("gru2/gates/bias", new int[] {2 * H});
        s.put("gru2/candidate/kernel", new int[] {2 * H, H});
        s.put("gru2/candidate/bias", new int[] {H});
        for (String b : List.of("gamma", "beta", "moving_mean", "moving_variance")) {
            s.put("bn1/" + b, new int[] {X});
        }
        s.put("f1/kernel", new int[] {X, F1});
        s.put("f1/bias", new int[] {F1});
        s.put("dice_1/alphadice_1", new int[] {F1});
        s.put("f2/kernel", new int[] {F1, F2});
        s.put("f2/bias", new int[] {F2});
        s.put("dice_2/alphadice_2", new int[] {F2});
        s.put("f3/kernel", new int[] {F2, 2});
        s.put("f3/bias", new int[] {2});
        return s;
    }

    /** The npz a checkpoint export writes: the model's variables, Adam slots, beta powers and the auxiliary net. */
    static Map<String, NpyArray> npz(Map<String, double[]> w) {
        Map<String, int[]> shapes = shapes();
        Map<String, NpyArray> out = new LinkedHashMap<>();
        w.forEach((name, v) -> out.put(name, Fixtures.array(v, name.endsWith("_embedding_var"), shapes.get(name))));
        SplittableRandom rnd = new SplittableRandom(99);
        out.put("uid_embedding_var/Adam", Fixtures.array(random(rnd, 0.1, USERS, E), false, USERS, E));
        out.put("uid_embedding_var/Adam_1", Fixtures.array(random(rnd, 0.1, USERS, E), false, USERS, E));
        out.put("gru1/gates/kernel/Adam", Fixtures.array(random(rnd, 0.1, D + H, 2 * H), false, D + H, 2 * H));
        out.put("Metrics/beta1_power", Fixtures.array(new double[] {0.9}, false));
        out.put("Metrics/beta2_power", Fixtures.array(new double[] {0.999}, false));
        out.put("bn1gru/gamma", Fixtures.array(random(rnd, 0.1, 2 * H), false, 2 * H));
        out.put("f1gru/kernel", Fixtures.array(random(rnd, 0.1, 2 * H, 100), false, 2 * H, 100));
        out.put("f3gru/bias", Fixtures.array(random(rnd, 0.1, 2), false, 2));
        return out;
    }

    // ---- the official forward pass, in its own layout ----

    static final class Official {
        final Map<String, double[]> w;
        final Map<String, Integer> uid = new HashMap<>();
        final Map<String, Integer> mid = new HashMap<>();
        final Map<String, Integer> cat = new HashMap<>();

        Official(Map<String, double[]> w) {
            this.w = w;
            for (int i = 0; i < USERS; i++) {
                uid.put("u" + i, i);
            }
            for (int i = 1; i < ITEMS; i++) {
                mid.put("m" + i, i);
            }
            for (int i = 1; i < CATS; i++) {
                cat.put("c" + i, i);
            }
        }

        /** data_iterator.py lines 149-160: an unknown id uses row 0. */
        double[] itemEb(String m, String c) {
            return concat(row(w.get("mid_embedding_var"), mid.getOrDefault(m, 0), E),
                    row(w.get("cat_embedding_var"), cat.getOrDefault(c, 0), E));
        }

        /** TF1 GRUCell, or utils.py VecAttGRUCell when {@code a} is given. */
        double[] cell(String scope, double[] x, double[] h, Double a) {
            double[] g = affine(concat(x, h), w.get(scope + "/gates/kernel"), w.get(scope + "/gates/bias"), 2 * H);
            double[] r = new double[H];
            double[] u = new double[H];
            for (int i = 0; i < H; i++) {
                r[i] = sigmoid(g[i]);
                u[i] = sigmoid(g[H + i]);
            }
            double[] rh = new double[H];
            for (int i = 0; i < H; i++) {
                rh[i] = r[i] * h[i];
            }
            double[] c = affine(concat(x, rh), w.get(scope + "/candidate/kernel"), w.get(scope + "/candidate/bias"), H);
            double[] out = new double[H];
            for (int i = 0; i < H; i++) {
                double ui = a == null ? u[i] : (1.0 - a) * u[i];
                out[i] = ui * h[i] + (1 - ui) * Math.tanh(c[i]);
            }
            return out;
        }

        /** Everything up to the head's first dense layer (f1), for one example. */
        double[] f1(Example ex) {
            double[] itemEb = itemEb(ex.item(), ex.cat());
            int n = ex.histItems().size();
            double[][] states = new double[n][];
            double[] h = new double[H];
            double[] sum = new double[D];
            for (int t = 0; t < n; t++) {
                double[] e = itemEb(ex.histItems().get(t), ex.histCats().get(t));
                for (int i = 0; i < D; i++) {
                    sum[i] += e[i];
                }
                h = cell("gru1", e, h, null);
                states[t] = h;
            }
            double[] q = affine(itemEb, w.get("f1_1_1/kernel"), w.get("f1_1_1/bias"), H);
            double[] alpha = w.get("prelu_");
            for (int i = 0; i < H; i++) {
                q[i] = Math.max(0, q[i]) + alpha[i] * Math.min(0, q[i]);
            }
            double[] scores = new double[n];
            for (int t = 0; t < n; t++) {
                double[] f = states[t];
                double[] din = new double[4 * H];
                for (int i = 0; i < H; i++) {
                    din[i] = q[i];
                    din[H + i] = f[i];
                    din[2 * H + i] = q[i] - f[i];
                    din[3 * H + i] = q[i] * f[i];
                }
                double[] l1 = affine(din, w.get("f1_att1_1/kernel"), w.get("f1_att1_1/bias"), A1);
                for (int i = 0; i < A1; i++) {
                    l1[i] = sigmoid(l1[i]);
                }
                double[] l2 = affine(l1, w.get("f2_att1_1/kernel"), w.get("f2_att1_1/bias"), A2);
                for (int i = 0; i < A2; i++) {
                    l2[i] = sigmoid(l2[i]);
                }
                scores[t] = affine(l2, w.get("f3_att1_1/kernel"), w.get("f3_att1_1/bias"), 1)[0];
            }
            double[] a = Fixtures.softmax(scores);
            double[] h2 = new double[H];
            for (int t = 0; t < n; t++) {
                h2 = cell("gru2", states[t], h2, a[t]);
            }
            double[] prod = new double[D];
            for (int i = 0; i < D; i++) {
                prod[i] = itemEb[i] * sum[i];
            }
            double[] inp = concat(row(w.get("uid_embedding_var"), uid.getOrDefault(ex.user(), 0), E), itemEb, sum, prod, h2);
            // tf.layers.batch_normalization without training=True uses the moving statistics (epsilon 1e-3).
            double[] g = w.get("bn1/gamma");
            double[] b = w.get("bn1/beta");
            double[] m = w.get("bn1/moving_mean");
            double[] v = w.get("bn1/moving_variance");
            for (int i = 0; i < X; i++) {
                inp[i] = (inp[i] - m[i]) / Math.sqrt(v[i] + 1e-3) * g[i] + b[i];
            }
            return affine(inp, w.get("f1/kernel"), w.get("f1/bias"), F1);
        }

        /** Dice.py: the batch's mean and (epsilon-padded) standard deviation. */
        static double[][] dice(double[][] x, double[] alpha) {
            int n = x.length;
            int k = alpha.length;
            double[] mean = new double[k];
            for (double[] r : x) {
                for (int j = 0; j < k; j++) {
                    mean[j] += r[j] / n;
                }
            }
            double[] std = new double[k];
            for (double[] r : x) {
                for (int j = 0; j < k; j++) {
                    std[j] += ((r[j] - mean[j]) * (r[j] - mean[j]) + 1e-9) / n;
                }
            }
            double[][] out = new double[n][k];
            for (int s = 0; s < n; s++) {
                for (int j = 0; j < k; j++) {
                    double p = sigmoid((x[s][j] - mean[j]) / (Math.sqrt(std[j]) + 1e-9));
                    out[s][j] = alpha[j] * (1 - p) * x[s][j] + p * x[s][j];
                }
            }
            return out;
        }

        /** y_hat[:, 0] (the click column of the target [label, 1 − label]) for one batch. */
        double[] score(List<Example> batch) {
            double[][] v1 = new double[batch.size()][];
            for (int s = 0; s < v1.length; s++) {
                v1[s] = f1(batch.get(s));
            }
            double[][] d1 = dice(v1, w.get("dice_1/alphadice_1"));
            double[][] v2 = new double[v1.length][];
            for (int s = 0; s < v1.length; s++) {
                v2[s] = affine(d1[s], w.get("f2/kernel"), w.get("f2/bias"), F2);
            }
            double[][] d2 = dice(v2, w.get("dice_2/alphadice_2"));
            double[] out = new double[v1.length];
            for (int s = 0; s < v1.length; s++) {
                double[] l = affine(d2[s], w.get("f3/kernel"), w.get("f3/bias"), 2);
                out[s] = Fixtures.softmax(l)[0]; // the source adds 1e-8 for its log loss; not part of the score
            }
            return out;
        }
    }

    static List<Example> examples(long seed, int n, int length) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Example> out = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            List<String> hi = new ArrayList<>();
            List<String> hc = new ArrayList<>();
            for (int t = 0; t < length; t++) {
                // m8 and c9 are not in the vocabularies: both sides use row 0 for them.
                hi.add("m" + (1 + rnd.nextInt(ITEMS)));
                hc.add("c" + (1 + rnd.nextInt(CATS + 5)));
            }
            out.add(new Example("u" + rnd.nextInt(USERS + 1), "m" + (1 + rnd.nextInt(ITEMS)), "c" + (1 + rnd.nextInt(CATS)), hi, hc));
        }
        return out;
    }

    static void writeData(Path file, List<Example> examples) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        for (Example e : examples) {
            sb.append("1\t").append(e.user()).append('\t').append(e.item()).append('\t').append(e.cat()).append('\t')
                    .append(String.join("\u0002", e.histItems())).append('\t').append(String.join("\u0002", e.histCats()))
                    .append('\n');
        }
        Files.writeString(file, sb.toString());
    }

    /** The TSV vocabularies the docs' Python lines write from the official pickles (default_* keys left out). */
    static void writeVocabs(Path dir) throws java.io.IOException {
        StringBuilder u = new StringBuilder();
        for (int i = 0; i < USERS; i++) {
            u.append("u").append(i).append('\t').append(i).append('\n');
        }
        Files.writeString(dir.resolve("uid_voc.tsv"), u.toString());
        StringBuilder m = new StringBuilder();
        for (int i = 1; i < ITEMS; i++) {
            m.append("m").append(i).append('\t').append(i).append('\n');
        }
        Files.writeString(dir.resolve("mid_voc.tsv"), m.toString());
        StringBuilder c = new StringBuilder("# raw id\trow\n");
        for (int i = 1; i < CATS; i++) {
            c.append("c").append(i).append('\t').append(i).append('\n');
        }
        Files.writeString(dir.resolve("cat_voc.tsv"), c.toString());
    }

    static double[] bundleScores(ModelBundle bundle, List<Example> examples) {
        DienScorer scorer = DienModel.from(bundle).newScorer();
        double[] out = new double[examples.size()];
        float[] ctr = new float[1];
        for (int s = 0; s < out.length; s++) {
            Example e = examples.get(s);
            InterestState state = scorer.newState();
            for (int t = 0; t < e.histItems().size(); t++) {
                state.append(scorer, OfficialFormat.rawId(e.histItems().get(t)), OfficialFormat.rawId(e.histCats().get(t)));
            }
            state.score(scorer, OfficialFormat.rawId(e.user()), new long[] {OfficialFormat.rawId(e.item())},
                    new long[] {OfficialFormat.rawId(e.cat())}, 1, Semantics.WINDOWED, ctr);
            out[s] = ctr[0];
        }
        return out;
    }

    @Test
    void importedBundleScoresAsTheOfficialCodeWithTheCalibrationDataAsItsBatch() throws Exception {
        Map<String, double[]> w = weights(7);
        Fixtures.writeNpz(dir.resolve("dien.npz"), npz(w));
        writeVocabs(dir);
        List<Example> examples = examples(11, 96, 6);
        writeData(dir.resolve("calibration.txt"), examples);

        Fixtures.Run run = Fixtures.cli("bundle", "import", "--from", "tf1-official", "--weights", dir.resolve("dien.npz").toString(),
                "--vocab", "user=" + dir.resolve("uid_voc.tsv"), "--vocab", "item=" + dir.resolve("mid_voc.tsv"),
                "--vocab", "category=" + dir.resolve("cat_voc.tsv"), "--output", dir.resolve("bundle").toString(),
                "--calibrate", dir.resolve("calibration.txt").toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("skipped  uid_embedding_var/Adam_1  (Adam optimiser slot)"), run.out());
        assertTrue(run.out().contains("skipped  Metrics/beta1_power"), run.out());
        assertTrue(run.out().contains("skipped  f1gru/kernel  (auxiliary network"), run.out());
        assertTrue(run.out().contains("used     gru2/candidate/kernel"), run.out());

        ModelBundle bundle = ModelBundle.load(dir.resolve("bundle"));
        assertEquals("before", bundle.config().extractorReset().json());
        assertEquals("code", bundle.config().evolver().form().json());
        assertEquals("dice", bundle.config().head().activation().json());
        assertEquals(List.of(A1, A2), bundle.config().attention().layers());
        assertEquals(List.of(F1, F2), bundle.config().head().layers());

        double tolerance = GoldenCases.load("official").tolerance().ctr();
        double[] expected = new Official(w).score(examples);
        double[] actual = bundleScores(bundle, examples);
        for (int s = 0; s < expected.length; s++) {
            assertEquals(expected[s], actual[s], tolerance, "example " + s);
        }
    }

    /**
     * TensorFlow releases after 1.4 add the cell's layer name to its variables; forks that call
     * VecAttGRUCell through the layer do too. Both spellings import to the same bundle.
     */
    @Test
    void laterTensorFlowCellNamesImportToTheSameBundle() throws Exception {
        Map<String, NpyArray> plain = npz(weights(5));
        Map<String, NpyArray> layered = new LinkedHashMap<>();
        plain.forEach((k, v) -> layered.put(k.replaceFirst("^gru1/", "gru1/gru_cell/").replaceFirst("^gru2/", "gru2/vec_att_gru_cell/")
                .replaceFirst("^prelu_$", "prelu/prelu_"), v));
        Fixtures.writeNpz(dir.resolve("plain.npz"), plain);
        Fixtures.writeNpz(dir.resolve("layered.npz"), layered);
        writeVocabs(dir);
        Map<String, Vocabulary> v = Map.of("user", Vocabulary.read(dir.resolve("uid_voc.tsv")),
                "item", Vocabulary.read(dir.resolve("mid_voc.tsv")), "category", Vocabulary.read(dir.resolve("cat_voc.tsv")));
        com.fasterxml.jackson.databind.JsonNode mapping = BundleImporter.loadMapping("tf1-official", Map.of());
        BundleImporter.Result a = BundleImporter.run(mapping, SourceWeights.read(dir.resolve("plain.npz")), v, 100, "a");
        BundleImporter.Result b = BundleImporter.run(mapping, SourceWeights.read(dir.resolve("layered.npz")), v, 100, "b");
        assertTrue(b.used().contains("gru1/gru_cell/gates/kernel"), b.used().toString());
        assertEquals(a.bundle().fingerprint(), b.bundle().fingerprint());
    }

    /**
     * What calibration cannot reproduce: the official code scores each example with the statistics
     * of whatever batch it is in. Measured here, not asserted beyond being real: docs/importing.md
     * quotes these numbers.
     */
    @Test
    void batchStatisticsMoveOfficialScoresAwayFromCalibratedOnes() throws Exception {
        Map<String, double[]> w = weights(7);
        Fixtures.writeNpz(dir.resolve("dien.npz"), npz(w));
        writeVocabs(dir);
        List<Example> examples = examples(11, 1024, 6);
        writeData(dir.resolve("calibration.txt"), examples);
        Fixtures.Run run = Fixtures.cli("bundle", "import", "--from", "tf1-official", "--weights", dir.resolve("dien.npz").toString(),
                "--vocab", "user=" + dir.resolve("uid_voc.tsv"), "--vocab", "item=" + dir.resolve("mid_voc.tsv"),
                "--vocab", "category=" + dir.resolve("cat_voc.tsv"), "--output", dir.resolve("bundle").toString(),
                "--calibrate", dir.resolve("calibration.txt").toString());
        assertEquals(0, run.exit(), run.err());
        double[] calibrated = bundleScores(ModelBundle.load(dir.resolve("bundle")), examples);
        Official official = new Official(w);
        for (int batch : new int[] {128, 32}) {
            double max = 0;
            double sum = 0;
            for (int from = 0; from < examples.size(); from += batch) {
                double[] s = official.score(examples.subList(from, from + batch));
                for (int i = 0; i < batch; i++) {
                    double d = Math.abs(s[i] - calibrated[from + i]);
                    max = Math.max(max, d);
                    sum += d;
                }
            }
            LOG.info("official batch {} against calibrated over {} examples: mean |Δctr| {}, max {}", batch,
                    examples.size(), String.format("%.2e", sum / examples.size()), String.format("%.2e", max));
            assertTrue(max > 0, "batch statistics differ from population statistics");
        }
    }
}

package io.dienflink.bundleimport;

import static io.dienflink.bundleimport.Fixtures.concat;
import static io.dienflink.bundleimport.Fixtures.linear;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The deepctr-torch preset against a direct implementation of DeepCTR-Torch's DIEN forward pass
 * (deepctr_torch/models/dien.py with gru_type='AUGRU', layers/sequence.py AUGRUCell and
 * AttentionSequencePoolingLayer, layers/core.py LocalActivationUnit and DNN) in PyTorch's layout:
 * {@code [out, in]} weights, (r, z, n) gate rows, z as the AUGRU's write gate, the DNN input
 * {@code [interest ; user ; item ; category]}.
 */
class DeepCtrTorchImportTest {
    static final int E = 4;
    static final int D = 2 * E;
    static final int H = D; // InterestExtractor: hidden_size = input_size
    static final int A1 = 6;
    static final int A2 = 3;
    static final int F1 = 7;
    static final int F2 = 5;
    static final int USERS = 5;
    static final int ITEMS = 7; // row 0 is the padding ("mask") value
    static final int CATS = 4;

    @TempDir
    Path dir;

    record Example(long user, long item, long cat, long[] histItems, long[] histCats) {}

    static Map<String, double[]> weights(long seed, String user, String item, String cat, boolean prelu) {
        return weights(seed, user, item, cat, prelu, false);
    }

    static Map<String, double[]> weights(long seed, String user, String item, String cat, boolean prelu, boolean bn) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, double[]> w = new LinkedHashMap<>();
        w.put("embedding_dict." + user + ".weight", random(rnd, 0.5, USERS, E));
        w.put("embedding_dict." + item + ".weight", random(rnd, 0.5, ITEMS, E));
        w.put("embedding_dict." + cat + ".weight", random(rnd, 0.5, CATS, E));
        w.put("interest_extractor.gru.weight_ih_l0", random(rnd, 0.5, 3 * H, D));
        w.put("interest_extractor.gru.weight_hh_l0", random(rnd, 0.5, 3 * H, H));
        w.put("interest_extractor.gru.bias_ih_l0", random(rnd, 0.3, 3 * H));
        w.put("interest_extractor.gru.bias_hh_l0", random(rnd, 0.3, 3 * H));
        w.put("interest_extractor.auxiliary_net.linears.0.weight", random(rnd, 0.1, 100, 2 * D));
        w.put("interest_extractor.auxiliary_net.linears.0.bias", random(rnd, 0.1, 100));
        w.put("interest_evolution.attention.local_att.dnn.linears.0.weight", random(rnd, 0.5, A1, 4 * D));
        w.put("interest_evolution.attention.local_att.dnn.linears.0.bias", random(rnd, 0.3, A1));
        w.put("interest_evolution.attention.local_att.dnn.linears.1.weight", random(rnd, 0.5, A2, A1));
        w.put("interest_evolution.attention.local_att.dnn.linears.1.bias", random(rnd, 0.3, A2));
        w.put("interest_evolution.attention.local_att.dense.weight", random(rnd, 1.0, 1, A2));
        w.put("interest_evolution.attention.local_att.dense.bias", random(rnd, 0.3, 1));
        w.put("interest_evolution.interest_evolution.rnn.weight_ih", random(rnd, 0.5, 3 * H, H));
        w.put("interest_evolution.interest_evolution.rnn.weight_hh", random(rnd, 0.5, 3 * H, H));
        // In the source both names hold the one bias_hh Parameter (sequence.py line 262); distinct
        // values here also check that each maps to its own side of the cell.
        w.put("interest_evolution.interest_evolution.rnn.bias_ih", random(rnd, 0.3, 3 * H));
        w.put("interest_evolution.interest_evolution.rnn.bias_hh", random(rnd, 0.3, 3 * H));
        w.put("dnn.linears.0.weight", random(rnd, 0.5, F1, H + 3 * E));
        w.put("dnn.linears.0.bias", random(rnd, 0.3, F1));
        w.put("dnn.linears.1.weight", random(rnd, 0.5, F2, F1));
        w.put("dnn.linears.1.bias", random(rnd, 0.3, F2));
        if (prelu) {
            w.put("dnn.activation_layers.0.weight", random(rnd, 0.5, 1));
            w.put("dnn.activation_layers.1.weight", random(rnd, 0.5, 1));
        }
        if (bn) {
            for (int i = 0; i < 2; i++) {
                int n = i == 0 ? F1 : F2;
                w.put("dnn.bn." + i + ".weight", random(rnd, 0.5, n));
                w.put("dnn.bn." + i + ".bias", random(rnd, 0.3, n));
                w.put("dnn.bn." + i + ".running_mean", random(rnd, 0.3, n));
                double[] var = random(rnd, 0.5, n);
                for (int j = 0; j < n; j++) {
                    var[j] = (float) (1 + var[j]);
                }
                w.put("dnn.bn." + i + ".running_var", var);
            }
        }
        w.put("linear.weight", random(rnd, 1.0, 1, F2));
        w.put("out.bias", random(rnd, 0.3, 1));
        return w;
    }

    static int[] shapeOf(String name) {
        if (name.startsWith("dnn.bn.")) {
            return new int[] {name.startsWith("dnn.bn.0.") ? F1 : F2};
        }
        return switch (name.replaceAll("embedding_dict\\.[^.]+", "embedding_dict.X")) {
            case "embedding_dict.X.weight" -> null;
            case "interest_extractor.gru.weight_ih_l0" -> new int[] {3 * H, D};
            case "interest_extractor.gru.weight_hh_l0", "interest_evolution.interest_evolution.rnn.weight_ih",
                    "interest_evolution.interest_evolution.rnn.weight_hh" -> new int[] {3 * H, H};
            case "interest_extractor.gru.bias_ih_l0", "interest_extractor.gru.bias_hh_l0",
                    "interest_evolution.interest_evolution.rnn.bias_ih", "interest_evolution.interest_evolution.rnn.bias_hh" ->
                    new int[] {3 * H};
            case "interest_extractor.auxiliary_net.linears.0.weight" -> new int[] {100, 2 * D};
            case "interest_extractor.auxiliary_net.linears.0.bias" -> new int[] {100};
            case "interest_evolution.attention.local_att.dnn.linears.0.weight" -> new int[] {A1, 4 * D};
            case "interest_evolution.attention.local_att.dnn.linears.0.bias" -> new int[] {A1};
            case "interest_evolution.attention.local_att.dnn.linears.1.weight" -> new int[] {A2, A1};
            case "interest_evolution.attention.local_att.dnn.linears.1.bias" -> new int[] {A2};
            case "interest_evolution.attention.local_att.dense.weight" -> new int[] {1, A2};
            case "interest_evolution.attention.local_att.dense.bias", "out.bias", "dnn.activation_layers.0.weight",
                    "dnn.activation_layers.1.weight" -> new int[] {1};
            case "dnn.linears.0.weight" -> new int[] {F1, H + 3 * E};
            case "dnn.linears.0.bias" -> new int[] {F1};
            case "dnn.linears.1.weight" -> new int[] {F2, F1};
            case "dnn.linears.1.bias" -> new int[] {F2};
            case "linear.weight" -> new int[] {1, F2};
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** numpy.savez of a state_dict: float32, or float64 when the export went through a float64 array. */
    static Map<String, NpyArray> npz(Map<String, double[]> w, boolean float64) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        w.forEach((name, v) -> {
            int[] shape = shapeOf(name);
            if (shape == null) {
                shape = new int[] {v.length / E, E};
            }
            out.put(name, Fixtures.array(v, float64, shape));
        });
        if (w.containsKey("dnn.bn.0.weight")) {
            // BatchNorm1d's int64 step counter, a 0-d array in the state_dict.
            out.put("dnn.bn.0.num_batches_tracked", NpyArray.ofLongs(new int[0], new long[] {1234}));
            out.put("dnn.bn.1.num_batches_tracked", NpyArray.ofLongs(new int[0], new long[] {1234}));
        }
        return out;
    }

    /** DIEN.forward for one example (gru_type AUGRU, att_weight_normalization True). */
    static double reference(Map<String, double[]> w, String user, String item, String cat, String attAct, boolean prelu,
                            Example ex) {
        double[] userEmb = row(w.get("embedding_dict." + user + ".weight"), (int) rowOf(ex.user(), 1000, USERS, 0), E);
        double[] itemTable = w.get("embedding_dict." + item + ".weight");
        double[] catTable = w.get("embedding_dict." + cat + ".weight");
        double[] query = concat(row(itemTable, rowOf(ex.item(), 5000, ITEMS, 1), E), row(catTable, rowOf(ex.cat(), 70, CATS, 1), E));
        int n = ex.histItems().length;
        double[][] interests = new double[n][];
        double[] h = new double[H];
        for (int t = 0; t < n; t++) {
            double[] x = concat(row(itemTable, rowOf(ex.histItems()[t], 5000, ITEMS, 1), E),
                    row(catTable, rowOf(ex.histCats()[t], 70, CATS, 1), E));
            double[] gi = linear(w.get("interest_extractor.gru.weight_ih_l0"), x, w.get("interest_extractor.gru.bias_ih_l0"), 3 * H);
            double[] gh = linear(w.get("interest_extractor.gru.weight_hh_l0"), h, w.get("interest_extractor.gru.bias_hh_l0"), 3 * H);
            double[] next = new double[H];
            for (int i = 0; i < H; i++) {
                double r = sigmoid(gi[i] + gh[i]);
                double z = sigmoid(gi[H + i] + gh[H + i]);
                double nn = Math.tanh(gi[2 * H + i] + r * gh[2 * H + i]);
                next[i] = (1 - z) * nn + z * h[i];
            }
            h = next;
            interests[t] = h;
        }
        String att = "interest_evolution.attention.local_att.";
        double[] scores = new double[n];
        for (int t = 0; t < n; t++) {
            double[] k = interests[t];
            double[] in = new double[4 * D];
            for (int i = 0; i < D; i++) {
                in[i] = query[i];
                in[D + i] = k[i];
                in[2 * D + i] = query[i] - k[i];
                in[3 * D + i] = query[i] * k[i];
            }
            double[] l1 = act(linear(w.get(att + "dnn.linears.0.weight"), in, w.get(att + "dnn.linears.0.bias"), A1), attAct);
            double[] l2 = act(linear(w.get(att + "dnn.linears.1.weight"), l1, w.get(att + "dnn.linears.1.bias"), A2), attAct);
            scores[t] = linear(w.get(att + "dense.weight"), l2, w.get(att + "dense.bias"), 1)[0];
        }
        double[] a = Fixtures.softmax(scores);
        String evo = "interest_evolution.interest_evolution.rnn.";
        double[] hx = new double[H];
        for (int t = 0; t < n; t++) {
            double[] gi = linear(w.get(evo + "weight_ih"), interests[t], w.get(evo + "bias_ih"), 3 * H);
            double[] gh = linear(w.get(evo + "weight_hh"), hx, w.get(evo + "bias_hh"), 3 * H);
            double[] next = new double[H];
            for (int i = 0; i < H; i++) {
                double r = sigmoid(gi[i] + gh[i]);
                double z = a[t] * sigmoid(gi[H + i] + gh[H + i]);
                double nn = Math.tanh(gi[2 * H + i] + r * gh[2 * H + i]);
                next[i] = (1 - z) * hx[i] + z * nn;
            }
            hx = next;
        }
        double[] x = concat(hx, userEmb, query);
        double[] d1 = bn(w, 0, linear(w.get("dnn.linears.0.weight"), x, w.get("dnn.linears.0.bias"), F1));
        d1 = prelu ? prelu(d1, w.get("dnn.activation_layers.0.weight")[0]) : act(d1, "relu");
        double[] d2 = bn(w, 1, linear(w.get("dnn.linears.1.weight"), d1, w.get("dnn.linears.1.bias"), F2));
        d2 = prelu ? prelu(d2, w.get("dnn.activation_layers.1.weight")[0]) : act(d2, "relu");
        double logit = linear(w.get("linear.weight"), d2, null, 1)[0] + w.get("out.bias")[0];
        return sigmoid(logit);
    }

    /** DNN.forward with use_bn (core.py lines 127-128): BatchNorm1d in eval mode, epsilon 1e-5. */
    static double[] bn(Map<String, double[]> w, int layer, double[] v) {
        String p = "dnn.bn." + layer + ".";
        if (!w.containsKey(p + "weight")) {
            return v;
        }
        double[] out = new double[v.length];
        for (int j = 0; j < v.length; j++) {
            out[j] = (v[j] - w.get(p + "running_mean")[j]) / Math.sqrt(w.get(p + "running_var")[j] + 1e-5)
                    * w.get(p + "weight")[j] + w.get(p + "bias")[j];
        }
        return out;
    }

    static double[] act(double[] v, String kind) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = "relu".equals(kind) ? Math.max(0, v[i]) : sigmoid(v[i]);
        }
        return out;
    }

    static double[] prelu(double[] v, double slope) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] >= 0 ? v[i] : slope * v[i];
        }
        return out;
    }

    /** The LabelEncoder rows of this fixture: raw id base + k is row first + k; anything else row 0. */
    static int rowOf(long id, long base, int rows, int first) {
        long k = id - base;
        return k >= 0 && k + first < rows ? (int) (k + first) : 0;
    }

    static List<Example> examples(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Example> out = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            int len = rnd.nextInt(8); // includes empty histories
            long[] hi = new long[len];
            long[] hc = new long[len];
            for (int t = 0; t < len; t++) {
                hi[t] = 5000 + rnd.nextInt(ITEMS + 1); // 5006 and up are unknown
                hc[t] = 70 + rnd.nextInt(CATS);
            }
            out.add(new Example(1000 + rnd.nextInt(USERS + 1), 5000 + rnd.nextInt(ITEMS), 70 + rnd.nextInt(CATS), hi, hc));
        }
        return out;
    }

    static void writeVocab(Path file, long base, int rows, int first) throws java.io.IOException {
        StringBuilder sb = new StringBuilder("{");
        for (int r = first; r < rows; r++) {
            sb.append(r > first ? ", " : "").append('"').append(base + r - first).append("\": ").append(r);
        }
        Files.writeString(file, sb.append('}').toString());
    }

    @ParameterizedTest
    @CsvSource({"user,item_id,cate_id,relu,relu,false,false", "uid,mid,cat,sigmoid,prelu,true,false",
            "user,item_id,cate_id,relu,prelu,false,true"})
    void importedBundleScoresAsDeepCtrTorch(String user, String item, String cat, String attAct, String dnnAct, boolean float64,
                                            boolean useBn) throws Exception {
        boolean prelu = "prelu".equals(dnnAct);
        Map<String, double[]> w = weights(3, user, item, cat, prelu, useBn);
        Fixtures.writeNpz(dir.resolve("state_dict.npz"), npz(w, float64));
        writeVocab(dir.resolve("user.json"), 1000, USERS, 0);
        writeVocab(dir.resolve("item.json"), 5000, ITEMS, 1);
        writeVocab(dir.resolve("cat.json"), 70, CATS, 1);
        Fixtures.Run run = Fixtures.cli("bundle", "import", "--from", "deepctr-torch",
                "--weights", dir.resolve("state_dict.npz").toString(),
                "--vocab", "user=" + dir.resolve("user.json"), "--vocab", "item=" + dir.resolve("item.json"),
                "--vocab", "category=" + dir.resolve("cat.json"), "--output", dir.resolve("bundle").toString(),
                "--param", "user=" + user, "--param", "item=" + item, "--param", "category=" + cat,
                "--param", "att_activation=" + attAct, "--param", "dnn_activation=" + dnnAct, "--param", "use_bn=" + useBn, "--max-history", "5");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("skipped  interest_extractor.auxiliary_net.linears.0.weight"), run.out());

        ModelBundle bundle = ModelBundle.load(dir.resolve("bundle"));
        assertEquals("after", bundle.config().extractorReset().json());
        assertEquals("paper", bundle.config().evolver().form().json());
        assertEquals(attAct, bundle.config().attention().activation().json());
        assertEquals(dnnAct, bundle.config().head().activation().json());

        double tolerance = GoldenCases.load("torch").tolerance().ctr();
        DienScorer scorer = DienModel.from(bundle).newScorer();
        float[] ctr = new float[1];
        for (Example ex : examples(17, 60)) {
            // The source scores the example's history as given; the bundle's windowed semantics
            // reads the last T = 5 clicks, so the reference gets those.
            int from = Math.max(0, ex.histItems().length - 5);
            Example window = new Example(ex.user(), ex.item(), ex.cat(),
                    java.util.Arrays.copyOfRange(ex.histItems(), from, ex.histItems().length),
                    java.util.Arrays.copyOfRange(ex.histCats(), from, ex.histCats().length));
            double expected = window.histItems().length == 0
                    ? emptyHistory(w, user, item, cat, prelu, ex) : reference(w, user, item, cat, attAct, prelu, window);
            InterestState state = scorer.newState();
            for (int t = 0; t < ex.histItems().length; t++) {
                state.append(scorer, ex.histItems()[t], ex.histCats()[t]);
            }
            state.score(scorer, ex.user(), new long[] {ex.item()}, new long[] {ex.cat()}, 1, Semantics.WINDOWED, ctr);
            assertEquals(expected, ctr[0], tolerance, ex.toString());
        }
    }

    /** InterestEvolving.forward, dien.py lines 344-350: an empty history gives a zero interest. */
    static double emptyHistory(Map<String, double[]> w, String user, String item, String cat, boolean prelu, Example ex) {
        double[] userEmb = row(w.get("embedding_dict." + user + ".weight"), rowOf(ex.user(), 1000, USERS, 0), E);
        double[] query = concat(row(w.get("embedding_dict." + item + ".weight"), rowOf(ex.item(), 5000, ITEMS, 1), E),
                row(w.get("embedding_dict." + cat + ".weight"), rowOf(ex.cat(), 70, CATS, 1), E));
        double[] x = concat(new double[H], userEmb, query);
        double[] d1 = bn(w, 0, linear(w.get("dnn.linears.0.weight"), x, w.get("dnn.linears.0.bias"), F1));
        d1 = prelu ? prelu(d1, w.get("dnn.activation_layers.0.weight")[0]) : act(d1, "relu");
        double[] d2 = bn(w, 1, linear(w.get("dnn.linears.1.weight"), d1, w.get("dnn.linears.1.bias"), F2));
        d2 = prelu ? prelu(d2, w.get("dnn.activation_layers.1.weight")[0]) : act(d2, "relu");
        return sigmoid(linear(w.get("linear.weight"), d2, null, 1)[0] + w.get("out.bias")[0]);
    }
}

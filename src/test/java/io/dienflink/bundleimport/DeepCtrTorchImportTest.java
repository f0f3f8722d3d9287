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
import java.util.HashMap;
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

    /**
     * DeepCTR-Torch's state_dict keys, each the dotted path of the attribute names the source assigns
     * its modules (github shenweichen/DeepCTR-Torch at f6854257b1fc29caab655ce72c6b5528b7432574,
     * deepctr_torch/, file:line next to each piece) followed by PyTorch's own parameter names; the
     * embedding keys hold the user's feature names. Deliberately not read from the preset.
     */
    static final class Names {
        private Names() {}

        // basemodel.py:115 self.embedding_dict = create_embedding_matrix(...): inputs.py:167-168 builds an
        // nn.ModuleDict keyed by feat.embedding_name, the feature's own name unless given (inputs.py:27-28);
        // the history features name the item and category tables (examples/run_dien.py:16-18).
        // nn.Embedding's parameter is "weight".
        static String embedding(String featureName) {
            return "embedding_dict" + "." + featureName + "." + "weight";
        }

        // dien.py:63 self.interest_extractor = InterestExtractor(...); dien.py:185 self.gru = nn.GRU(...), one
        // layer: nn.GRU names its parameters weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0.
        static final String EXTRACTOR_GRU = "interest_extractor" + "." + "gru" + ".";

        // dien.py:187 self.auxiliary_net = DNN(input_size * 2, [100, 50, 1], 'sigmoid') (use_negsampling);
        // core.py:104 self.linears, nn.Linear ("weight", "bias"); sigmoid layers have no parameters.
        static String auxLinear(int i) {
            return "interest_extractor" + "." + "auxiliary_net" + "." + "linears" + "." + i + ".";
        }

        // dien.py:65 self.interest_evolution = InterestEvolving(...); dien.py:308 self.attention =
        // AttentionSequencePoolingLayer(...); sequence.py:102 self.local_att = LocalActivationUnit(...).
        static final String LOCAL_ATT = "interest_evolution" + "." + "attention" + "." + "local_att" + ".";

        // core.py:41 self.dnn = DNN(...), core.py:104 self.linears.
        static String attLinear(int i) {
            return LOCAL_ATT + "dnn" + "." + "linears" + "." + i + ".";
        }

        // core.py:49 self.dense = nn.Linear(hidden_units[-1], 1).
        static final String ATT_DENSE = LOCAL_ATT + "dense" + ".";

        // dien.py:313 self.interest_evolution = DynamicGRU(...) inside InterestEvolving (itself
        // interest_evolution, dien.py:65); sequence.py:294 self.rnn = AUGRUCell(...), whose parameters are
        // weight_ih, weight_hh, bias_ih, bias_hh (sequence.py:251-262).
        static final String EVOLVER_CELL = "interest_evolution" + "." + "interest_evolution" + "." + "rnn" + ".";

        // dien.py:75 self.dnn = DNN(...); core.py:104 self.linears.
        static String dnnLinear(int i) {
            return "dnn" + "." + "linears" + "." + i + ".";
        }

        // core.py:108 self.bn, nn.BatchNorm1d (use_bn): weight, bias, running_mean, running_var and the
        // buffer num_batches_tracked.
        static String dnnBn(int i) {
            return "dnn" + "." + "bn" + "." + i + ".";
        }

        // core.py:111 self.activation_layers; activation.py:78 nn.PReLU(), one parameter "weight".
        static String dnnActivation(int i) {
            return "dnn" + "." + "activation_layers" + "." + i + ".";
        }

        // dien.py:77 self.linear = nn.Linear(dnn_hidden_units[-1], 1, bias=False).
        static final String LINEAR_WEIGHT = "linear" + "." + "weight";
        // basemodel.py:129 self.out = PredictionLayer(task); core.py:152 self.bias = nn.Parameter(...).
        static final String OUT_BIAS = "out" + "." + "bias";
    }

    static Map<String, double[]> weights(long seed, String user, String item, String cat, boolean prelu) {
        return weights(seed, user, item, cat, prelu, false);
    }

    /** A DIEN state_dict (gru_type AUGRU, use_negsampling) for the feature names user, item, cat. */
    static Map<String, double[]> weights(long seed, String user, String item, String cat, boolean prelu, boolean bn) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, int[]> s = shapes();
        Map<String, double[]> w = new LinkedHashMap<>();
        w.put(Names.embedding(user), random(rnd, 0.5, USERS, E));
        w.put(Names.embedding(item), random(rnd, 0.5, ITEMS, E));
        w.put(Names.embedding(cat), random(rnd, 0.5, CATS, E));
        for (String p : List.of("weight_ih_l0", "weight_hh_l0")) {
            w.put(Names.EXTRACTOR_GRU + p, random(rnd, 0.5, s.get(Names.EXTRACTOR_GRU + p)));
        }
        for (String p : List.of("bias_ih_l0", "bias_hh_l0")) {
            w.put(Names.EXTRACTOR_GRU + p, random(rnd, 0.3, s.get(Names.EXTRACTOR_GRU + p)));
        }
        for (int i = 0; i < 3; i++) {
            for (String p : List.of("weight", "bias")) {
                w.put(Names.auxLinear(i) + p, random(rnd, 0.1, s.get(Names.auxLinear(i) + p)));
            }
        }
        for (int i = 0; i < 2; i++) {
            w.put(Names.attLinear(i) + "weight", random(rnd, 0.5, s.get(Names.attLinear(i) + "weight")));
            w.put(Names.attLinear(i) + "bias", random(rnd, 0.3, s.get(Names.attLinear(i) + "bias")));
        }
        w.put(Names.ATT_DENSE + "weight", random(rnd, 1.0, s.get(Names.ATT_DENSE + "weight")));
        w.put(Names.ATT_DENSE + "bias", random(rnd, 0.3, s.get(Names.ATT_DENSE + "bias")));
        w.put(Names.EVOLVER_CELL + "weight_ih", random(rnd, 0.5, s.get(Names.EVOLVER_CELL + "weight_ih")));
        w.put(Names.EVOLVER_CELL + "weight_hh", random(rnd, 0.5, s.get(Names.EVOLVER_CELL + "weight_hh")));
        // In the source both names hold the one bias_hh Parameter (sequence.py line 262); distinct
        // values here also check that each maps to its own side of the cell.
        w.put(Names.EVOLVER_CELL + "bias_ih", random(rnd, 0.3, s.get(Names.EVOLVER_CELL + "bias_ih")));
        w.put(Names.EVOLVER_CELL + "bias_hh", random(rnd, 0.3, s.get(Names.EVOLVER_CELL + "bias_hh")));
        for (int i = 0; i < 2; i++) {
            w.put(Names.dnnLinear(i) + "weight", random(rnd, 0.5, s.get(Names.dnnLinear(i) + "weight")));
            w.put(Names.dnnLinear(i) + "bias", random(rnd, 0.3, s.get(Names.dnnLinear(i) + "bias")));
        }
        if (prelu) {
            for (int i = 0; i < 2; i++) {
                w.put(Names.dnnActivation(i) + "weight", random(rnd, 0.5, s.get(Names.dnnActivation(i) + "weight")));
            }
        }
        if (bn) {
            for (int i = 0; i < 2; i++) {
                int n = i == 0 ? F1 : F2;
                w.put(Names.dnnBn(i) + "weight", random(rnd, 0.5, n));
                w.put(Names.dnnBn(i) + "bias", random(rnd, 0.3, n));
                w.put(Names.dnnBn(i) + "running_mean", random(rnd, 0.3, n));
                double[] var = random(rnd, 0.5, n);
                for (int j = 0; j < n; j++) {
                    var[j] = (float) (1 + var[j]);
                }
                w.put(Names.dnnBn(i) + "running_var", var);
            }
        }
        w.put(Names.LINEAR_WEIGHT, random(rnd, 1.0, s.get(Names.LINEAR_WEIGHT)));
        w.put(Names.OUT_BIAS, random(rnd, 0.3, s.get(Names.OUT_BIAS)));
        return w;
    }

    /** The shapes the source gives its parameters ({@code [out, in]} for nn.Linear), the embeddings' aside. */
    static Map<String, int[]> shapes() {
        Map<String, int[]> s = new HashMap<>();
        // dien.py:185 nn.GRU(input_size=input_size, hidden_size=input_size): rows (r, z, n).
        s.put(Names.EXTRACTOR_GRU + "weight_ih_l0", new int[] {3 * H, D});
        s.put(Names.EXTRACTOR_GRU + "weight_hh_l0", new int[] {3 * H, H});
        s.put(Names.EXTRACTOR_GRU + "bias_ih_l0", new int[] {3 * H});
        s.put(Names.EXTRACTOR_GRU + "bias_hh_l0", new int[] {3 * H});
        int[] aux = {2 * D, 100, 50, 1}; // dien.py:187
        for (int i = 0; i < 3; i++) {
            s.put(Names.auxLinear(i) + "weight", new int[] {aux[i + 1], aux[i]});
            s.put(Names.auxLinear(i) + "bias", new int[] {aux[i + 1]});
        }
        int[] att = {4 * D, A1, A2}; // core.py:41 DNN(inputs_dim=4 * embedding_dim, ...)
        for (int i = 0; i < 2; i++) {
            s.put(Names.attLinear(i) + "weight", new int[] {att[i + 1], att[i]});
            s.put(Names.attLinear(i) + "bias", new int[] {att[i + 1]});
        }
        s.put(Names.ATT_DENSE + "weight", new int[] {1, A2});
        s.put(Names.ATT_DENSE + "bias", new int[] {1});
        s.put(Names.EVOLVER_CELL + "weight_ih", new int[] {3 * H, H});
        s.put(Names.EVOLVER_CELL + "weight_hh", new int[] {3 * H, H});
        s.put(Names.EVOLVER_CELL + "bias_ih", new int[] {3 * H});
        s.put(Names.EVOLVER_CELL + "bias_hh", new int[] {3 * H});
        int[] dnn = {H + 3 * E, F1, F2}; // dien.py:74 _compute_dnn_dim() + input_size
        for (int i = 0; i < 2; i++) {
            s.put(Names.dnnLinear(i) + "weight", new int[] {dnn[i + 1], dnn[i]});
            s.put(Names.dnnLinear(i) + "bias", new int[] {dnn[i + 1]});
            s.put(Names.dnnActivation(i) + "weight", new int[] {1});
            for (String p : List.of("weight", "bias", "running_mean", "running_var")) {
                s.put(Names.dnnBn(i) + p, new int[] {dnn[i + 1]});
            }
        }
        s.put(Names.LINEAR_WEIGHT, new int[] {1, F2});
        s.put(Names.OUT_BIAS, new int[] {1});
        return s;
    }

    /** numpy.savez of a state_dict: float32, or float64 when the export went through a float64 array. */
    static Map<String, NpyArray> npz(Map<String, double[]> w, boolean float64) {
        Map<String, int[]> shapes = shapes();
        Map<String, NpyArray> out = new LinkedHashMap<>();
        // An embedding table is [rows, E]; its key holds the user's feature name.
        w.forEach((name, v) -> out.put(name, Fixtures.array(v, float64, shapes.getOrDefault(name, new int[] {v.length / E, E}))));
        for (int i = 0; i < 2; i++) {
            if (w.containsKey(Names.dnnBn(i) + "weight")) {
                // BatchNorm1d's int64 step counter, a 0-d array in the state_dict.
                out.put(Names.dnnBn(i) + "num_batches_tracked", NpyArray.ofLongs(new int[0], new long[] {1234}));
            }
        }
        return out;
    }

    /** DIEN.forward for one example (gru_type AUGRU, att_weight_normalization True). */
    static double reference(Map<String, double[]> w, String user, String item, String cat, String attAct, boolean prelu,
                            Example ex) {
        double[] userEmb = row(w.get(Names.embedding(user)), (int) rowOf(ex.user(), 1000, USERS, 0), E);
        double[] itemTable = w.get(Names.embedding(item));
        double[] catTable = w.get(Names.embedding(cat));
        double[] query = concat(row(itemTable, rowOf(ex.item(), 5000, ITEMS, 1), E), row(catTable, rowOf(ex.cat(), 70, CATS, 1), E));
        int n = ex.histItems().length;
        double[][] interests = new double[n][];
        double[] h = new double[H];
        for (int t = 0; t < n; t++) {
            double[] x = concat(row(itemTable, rowOf(ex.histItems()[t], 5000, ITEMS, 1), E),
                    row(catTable, rowOf(ex.histCats()[t], 70, CATS, 1), E));
            double[] gi = linear(w.get(Names.EXTRACTOR_GRU + "weight_ih_l0"), x, w.get(Names.EXTRACTOR_GRU + "bias_ih_l0"), 3 * H);
            double[] gh = linear(w.get(Names.EXTRACTOR_GRU + "weight_hh_l0"), h, w.get(Names.EXTRACTOR_GRU + "bias_hh_l0"), 3 * H);
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
            double[] l1 = act(linear(w.get(Names.attLinear(0) + "weight"), in, w.get(Names.attLinear(0) + "bias"), A1), attAct);
            double[] l2 = act(linear(w.get(Names.attLinear(1) + "weight"), l1, w.get(Names.attLinear(1) + "bias"), A2), attAct);
            scores[t] = linear(w.get(Names.ATT_DENSE + "weight"), l2, w.get(Names.ATT_DENSE + "bias"), 1)[0];
        }
        double[] a = Fixtures.softmax(scores);
        double[] hx = new double[H];
        for (int t = 0; t < n; t++) {
            double[] gi = linear(w.get(Names.EVOLVER_CELL + "weight_ih"), interests[t], w.get(Names.EVOLVER_CELL + "bias_ih"), 3 * H);
            double[] gh = linear(w.get(Names.EVOLVER_CELL + "weight_hh"), hx, w.get(Names.EVOLVER_CELL + "bias_hh"), 3 * H);
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
        double[] d1 = bn(w, 0, linear(w.get(Names.dnnLinear(0) + "weight"), x, w.get(Names.dnnLinear(0) + "bias"), F1));
        d1 = prelu ? prelu(d1, w.get(Names.dnnActivation(0) + "weight")[0]) : act(d1, "relu");
        double[] d2 = bn(w, 1, linear(w.get(Names.dnnLinear(1) + "weight"), d1, w.get(Names.dnnLinear(1) + "bias"), F2));
        d2 = prelu ? prelu(d2, w.get(Names.dnnActivation(1) + "weight")[0]) : act(d2, "relu");
        double logit = linear(w.get(Names.LINEAR_WEIGHT), d2, null, 1)[0] + w.get(Names.OUT_BIAS)[0];
        return sigmoid(logit);
    }

    /** DNN.forward with use_bn (core.py lines 127-128): BatchNorm1d in eval mode, epsilon 1e-5. */
    static double[] bn(Map<String, double[]> w, int layer, double[] v) {
        String p = Names.dnnBn(layer);
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
        assertTrue(run.out().contains("skipped  " + Names.auxLinear(2) + "weight"), run.out());

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

    /** The preset reads every parameter of the model and skips exactly the auxiliary network (use_negsampling). */
    @ParameterizedTest
    @CsvSource({"false,false", "true,false", "false,true"})
    void thePresetReadsEveryModelParameterAndSkipsTheAuxiliaryNetwork(boolean prelu, boolean useBn) throws Exception {
        Map<String, double[]> w = weights(9, "user", "item_id", "cate_id", prelu, useBn);
        Map<String, NpyArray> stateDict = npz(w, false);
        Fixtures.writeNpz(dir.resolve("state_dict.npz"), stateDict);
        com.fasterxml.jackson.databind.JsonNode mapping = BundleImporter.loadMapping("deepctr-torch",
                Map.of("dnn_activation", prelu ? "prelu" : "relu", "use_bn", String.valueOf(useBn)));
        writeVocab(dir.resolve("user.json"), 1000, USERS, 0);
        writeVocab(dir.resolve("item.json"), 5000, ITEMS, 1);
        writeVocab(dir.resolve("cat.json"), 70, CATS, 1);
        Map<String, Vocabulary> v = Map.of("user", Vocabulary.read(dir.resolve("user.json")),
                "item", Vocabulary.read(dir.resolve("item.json")), "category", Vocabulary.read(dir.resolve("cat.json")));
        BundleImporter.Result r = BundleImporter.run(mapping, SourceWeights.read(dir.resolve("state_dict.npz")), v, 5, "t");
        java.util.Set<String> skipped = new java.util.TreeSet<>();
        for (int i = 0; i < 3; i++) {
            skipped.add(Names.auxLinear(i) + "weight");
            skipped.add(Names.auxLinear(i) + "bias");
        }
        for (int i = 0; useBn && i < 2; i++) {
            skipped.add(Names.dnnBn(i) + "num_batches_tracked");
        }
        java.util.Set<String> used = new java.util.TreeSet<>(stateDict.keySet());
        used.removeAll(skipped);
        assertEquals(used, new java.util.TreeSet<>(r.used()));
        assertEquals(skipped, new java.util.TreeSet<>(r.skipped().keySet()));
    }

    /** InterestEvolving.forward, dien.py lines 344-350: an empty history gives a zero interest. */
    static double emptyHistory(Map<String, double[]> w, String user, String item, String cat, boolean prelu, Example ex) {
        double[] userEmb = row(w.get(Names.embedding(user)), rowOf(ex.user(), 1000, USERS, 0), E);
        double[] query = concat(row(w.get(Names.embedding(item)), rowOf(ex.item(), 5000, ITEMS, 1), E),
                row(w.get(Names.embedding(cat)), rowOf(ex.cat(), 70, CATS, 1), E));
        double[] x = concat(new double[H], userEmb, query);
        double[] d1 = bn(w, 0, linear(w.get(Names.dnnLinear(0) + "weight"), x, w.get(Names.dnnLinear(0) + "bias"), F1));
        d1 = prelu ? prelu(d1, w.get(Names.dnnActivation(0) + "weight")[0]) : act(d1, "relu");
        double[] d2 = bn(w, 1, linear(w.get(Names.dnnLinear(1) + "weight"), d1, w.get(Names.dnnLinear(1) + "bias"), F2));
        d2 = prelu ? prelu(d2, w.get(Names.dnnActivation(1) + "weight")[0]) : act(d2, "relu");
        return sigmoid(linear(w.get(Names.LINEAR_WEIGHT), d2, null, 1)[0] + w.get(Names.OUT_BIAS)[0]);
    }
}

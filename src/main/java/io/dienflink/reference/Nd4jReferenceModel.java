package io.dienflink.reference;

import io.dienflink.model.Activation;
import io.dienflink.model.AttentionKind;
import io.dienflink.model.AugruForm;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.ModelConfig;
import io.dienflink.model.NpyArray;
import io.dienflink.model.ResetMode;
import io.dienflink.model.Semantics;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * DIEN written op by op on ND4J, straight from MODEL_BUNDLE.md section 4, with none of the fast
 * path's rearrangements (no folding, no padding, no shared projections, one candidate and one
 * time step at a time). It replays the user's whole click history on every call.
 *
 * <p>Two uses: an independent implementation the golden tests also run, and the baseline the
 * benchmarks compare the fused kernels against. Per-call temporaries live in an ND4J workspace
 * that is closed when the call returns. Not thread-safe.
 */
public final class Nd4jReferenceModel implements AutoCloseable {
    private static final WorkspaceConfiguration WORKSPACE = WorkspaceConfiguration.builder()
            .policyAllocation(AllocationPolicy.STRICT).policyLearning(LearningPolicy.FIRST_LOOP).build();

    private final ModelConfig config;
    private final Map<String, INDArray> w = new HashMap<>();
    private final long[] userVocab;
    private final long[] itemVocab;
    private final long[] categoryVocab;
    private final String workspaceId = "dien-reference-" + System.identityHashCode(this);

    /** The result of one request: per-candidate values as in the golden files. */
    public record Result(float[][] windowStates, float[][] attention, float[][] finalInterest, float[] logit, float[] ctr) {}

    public Nd4jReferenceModel(ModelBundle bundle) {
        this.config = bundle.config();
        for (Map.Entry<String, NpyArray> e : bundle.arrays().entrySet()) {
            NpyArray a = e.getValue();
            if (a.isFloat32()) {
                long[] shape = Arrays.stream(a.shape()).asLongStream().toArray();
                w.put(e.getKey(), Nd4j.create(a.floats(), shape, 'c'));
            }
        }
        userVocab = bundle.longs("vocab.user");
        itemVocab = bundle.longs("vocab.item");
        categoryVocab = bundle.longs("vocab.category");
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Scores candidates for a user with the given click history (oldest first).
     *
     * @param clicks {@code [n][2]}: item id, category id
     * @param candidates {@code [m][2]}: item id, category id
     */
    public Result score(long userId, long[][] clicks, long[][] candidates, Semantics semantics) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, workspaceId)) {
            int h = config.hiddenDim();
            int n = clicks.length;
            int k = Math.min(n, config.maxHistory());
            int first = n - k;
            // Streaming replays every click; windowed restarts from zero at the window's first click.
            int from = semantics == Semantics.STREAMING ? 0 : first;
            INDArray state = Nd4j.zeros(1, h);
            INDArray[] window = new INDArray[k];
            for (int i = from; i < n; i++) {
                state = cell("extractor", config.extractorReset(), item(clicks[i]), state, -1f, null);
                if (i >= first) {
                    window[i - first] = state;
                }
            }
            INDArray sum = Nd4j.zeros(1, config.itemDim());
            for (int i = first; i < n; i++) {
                sum.addi(item(clicks[i]));
            }
            INDArray user = w.get("embedding.user").getRow(row(userVocab, userId), true);
            int m = candidates.length;
            float[][] attention = new float[m][];
            float[][] interest = new float[m][];
            float[] logit = new float[m];
            float[] ctr = new float[m];
            for (int c = 0; c < m; c++) {
                INDArray ea = item(candidates[c]);
                INDArray hp = Nd4j.zeros(1, h);
                attention[c] = new float[0];
                if (k > 0) {
                    INDArray scores = Nd4j.zeros(1, k);
                    for (int t = 0; t < k; t++) {
                        scores.putScalar(0, t, attentionScore(ea, window[t]));
                    }
                    INDArray a = softmax(scores);
                    for (int t = 0; t < k; t++) {
                        hp = cell("evolver", config.evolver().reset(), window[t], hp, a.getFloat(0, t), config.evolver().form());
                    }
                    attention[c] = a.toFloatVector();
                }
                INDArray x = Nd4j.hstack(user, ea, sum, ea.mul(sum), hp);
                double lg = head(x);
                interest[c] = hp.toFloatVector();
                logit[c] = (float) lg;
                ctr[c] = (float) (1.0 / (1.0 + Math.exp(-lg)));
            }
            float[][] states = new float[k][];
            for (int t = 0; t < k; t++) {
                states[t] = window[t].toFloatVector();
            }
            return new Result(states, attention, interest, logit, ctr);
        }
    }

    /**
     * One extractor cell step for one click, op by op: the baseline for the fused
     * {@code InterestState.append}.
     *
     * @param state the previous state (H floats), overwritten with the new one
     */
    public void extractorStep(long itemId, long categoryId, float[] state) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, workspaceId)) {
            INDArray h = Nd4j.create(state, new long[] {1, state.length}, 'c');
            INDArray next = cell("extractor", config.extractorReset(), item(new long[] {itemId, categoryId}), h, -1f, null);
            System.arraycopy(next.toFloatVector(), 0, state, 0, state.length);
        }
    }

    private static int row(long[] vocab, long id) {
        int i = Arrays.binarySearch(vocab, id);
        return i >= 0 ? i + 1 : 0;
    }

    private INDArray item(long[] click) {
        INDArray it = w.get("embedding.item").getRow(row(itemVocab, click[0]), true);
        INDArray cat = w.get("embedding.category").getRow(row(categoryVocab, click[1]), true);
        return Nd4j.hstack(it, cat);
    }

    private static INDArray cols(INDArray a, int from, int to) {
        return a.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to));
    }

    /** One GRU (att < 0) or AUGRU step, exactly as the spec writes it. */
    private INDArray cell(String layer, ResetMode reset, INDArray x, INDArray hPrev, float att, AugruForm form) {
        int h = config.hiddenDim();
        INDArray kx = w.get(layer + ".kernel_x");
        INDArray kh = w.get(layer + ".kernel_h");
        INDArray bx = w.get(layer + ".bias_x").reshape(1, 3 * h);
        INDArray bh = w.get(layer + ".bias_h").reshape(1, 3 * h);
        INDArray xs = x.mmul(kx).addi(bx);
        INDArray hs = hPrev.mmul(kh).addi(bh);
        INDArray r = Transforms.sigmoid(cols(xs, 0, h).add(cols(hs, 0, h)), false);
        INDArray u = Transforms.sigmoid(cols(xs, h, 2 * h).add(cols(hs, h, 2 * h)), false);
        INDArray c;
        if (reset == ResetMode.AFTER) {
            c = Transforms.tanh(cols(xs, 2 * h, 3 * h).add(r.mul(cols(hs, 2 * h, 3 * h))), false);
        } else {
            INDArray khc = kh.get(NDArrayIndex.all(), NDArrayIndex.interval(2 * h, 3 * h));
            INDArray rh = r.mul(hPrev).mmul(khc).addi(cols(bh, 2 * h, 3 * h));
            c = Transforms.tanh(cols(xs, 2 * h, 3 * h).add(rh), false);
        }
        if (att >= 0f) {
            u = form == AugruForm.CODE ? u.mul(1f - att) : u.rsub(1f).muli(att).rsubi(1f);
        }
        return u.mul(hPrev).addi(u.rsub(1f).muli(c));
    }

    private float attentionScore(INDArray ea, INDArray ht) {
        ModelConfig.AttentionConfig att = config.attention();
        if (att.kind() == AttentionKind.BILINEAR) {
            INDArray v = w.get("attention.bilinear").mmul(ea.transpose());
            return ht.mmul(v).getFloat(0);
        }
        INDArray q = ea;
        if (att.queryProjection()) {
            INDArray pre = ea.mmul(w.get("attention.query.kernel")).addi(w.get("attention.query.bias").reshape(1, -1));
            q = prelu(pre, w.get("attention.query.prelu"));
        }
        INDArray z = Nd4j.hstack(q, ht, q.sub(ht), q.mul(ht));
        List<Integer> layers = att.layers();
        for (int i = 1; i <= layers.size(); i++) {
            z = z.mmul(w.get("attention.dense" + i + ".kernel")).addi(w.get("attention.dense" + i + ".bias").reshape(1, -1));
            z = att.activation() == Activation.SIGMOID ? Transforms.sigmoid(z, false) : Transforms.relu(z, false);
        }
        return z.mmul(w.get("attention.out.kernel")).getFloat(0) + w.get("attention.out.bias").getFloat(0);
    }

    private static INDArray softmax(INDArray s) {
        INDArray e = Transforms.exp(s.sub(s.maxNumber()), false);
        return e.divi(e.sumNumber());
    }

    private static INDArray prelu(INDArray v, INDArray slope) {
        INDArray pos = Transforms.max(v, 0.0, true);
        INDArray neg = Transforms.min(v, 0.0, true).muli(slope.reshape(1, -1));
        return pos.addi(neg);
    }

    private double head(INDArray x) {
        ModelConfig.HeadConfig hc = config.head();
        if (hc.batchNorm()) {
            INDArray mean = w.get("head.bn.mean").reshape(1, -1);
            INDArray var = w.get("head.bn.var").reshape(1, -1);
            x = x.sub(mean).divi(Transforms.sqrt(var.add(hc.batchNormEpsilon()), false))
                    .muli(w.get("head.bn.gamma").reshape(1, -1)).addi(w.get("head.bn.beta").reshape(1, -1));
        }
        for (int i = 1; i <= hc.layers().size(); i++) {
            String p = "head.dense" + i;
            INDArray v = x.mmul(w.get(p + ".kernel")).addi(w.get(p + ".bias").reshape(1, -1));
            x = switch (hc.activation()) {
                case DICE -> {
                    INDArray mean = w.get(p + ".dice.mean").reshape(1, -1);
                    INDArray var = w.get(p + ".dice.var").reshape(1, -1);
                    INDArray alpha = w.get(p + ".dice.alpha").reshape(1, -1);
                    INDArray prob = Transforms.sigmoid(v.sub(mean).divi(Transforms.sqrt(var.add(1e-8), false)), false);
                    yield prob.mul(v).addi(alpha.mul(prob.rsub(1f)).muli(v));
                }
                case PRELU -> prelu(v, w.get(p + ".prelu"));
                default -> Transforms.relu(v, false);
            };
        }
        return x.mmul(w.get("head.out.kernel")).getDouble(0) + w.get("head.out.bias").getDouble(0);
    }

    @Override
    public void close() {
        w.values().forEach(INDArray::close);
        w.clear();
    }
}

package io.dienflink.train;

import io.dienflink.model.Kernels;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * DIEN, DIN and BaseModel as trainable networks with hand-written backpropagation, one sample at a
 * time, in float32 and the exact math of MODEL_BUNDLE.md (for DIEN: TF1 cells with the reset before
 * the candidate, the official code's AUGRU form, din-mlp attention with a PReLU query projection and
 * sigmoid layers, PReLU head without batch normalisation), so that an exported bundle scores what the
 * trainer computed. ND4J SameDiff was tried first and could not train the unrolled GRU (see the
 * trainer docs); gradients here are checked against finite differences in the tests.
 *
 * <p>A network is a composition of layers, each with its forward and backward pass and its
 * parameters' gradients: the {@link Embeddings}, the model kind's {@link Interest} (none for
 * BaseModel, {@link AttentionPooling} for DIN, {@link InterestEvolution} for DIEN) and the head
 * ({@link Mlp}) over {@code [e_u ; e_a ; s ; e_a ∘ s ; interest]}, where s is the sum of the history's
 * item vectors and BaseModel's head sees {@code [e_u ; e_a ; s]} alone (the official Model_DNN).
 *
 * <p>Parameters use the bundle's array names and shapes. The network object holds the parameters;
 * each thread works with its own {@link Workspace} and {@link Gradients}.
 */
public final class Network {
    final TrainConfig cfg;
    final Kernels k = Kernels.best();
    /** Every parameter, in bundle order; embeddings are updated sparsely. */
    final List<Param> params;
    private final Embeddings embeddings;
    /** Null for BaseModel. */
    private final Interest interest;
    private final Mlp head;
    private final int headInput;

    /** A named parameter array of the bundle's shape. */
    public static final class Param {
        public final String name;
        public final int[] shape;
        public final float[] value;
        final boolean sparse;
        final int index;

        Param(String name, int[] shape, boolean sparse, int index) {
            this.name = name;
            this.shape = shape;
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            this.value = new float[n];
            this.sparse = sparse;
            this.index = index;
        }
    }

    public Network(TrainConfig cfg, int nUsers, int nItems, int nCategories) {
        this.cfg = cfg;
        // the layers create their parameters in bundle order, drawing from one random stream
        Parameters p = new Parameters(cfg.seed());
        embeddings = new Embeddings(p, nUsers, nItems, nCategories, cfg.embeddingDim(), k);
        interest = switch (cfg.kind()) {
            case BASE -> null;
            case DIN -> new AttentionPooling(p, cfg, k);
            case DIEN -> new InterestEvolution(p, cfg, embeddings, k);
        };
        int d = cfg.itemDim();
        headInput = cfg.embeddingDim() + 2 * d + (interest == null ? 0 : d + interest.width());
        head = new Mlp(p, "head", headInput, cfg.headLayers(), true, k);
        params = p.all;
    }

    // ---------------------------------------------------------------- gradients and workspace

    /** One thread's gradient accumulators: dense arrays, and touched embedding rows. */
    public final class Gradients {
        final float[][] dense = new float[params.size()][];
        final Map<Integer, float[]>[] rows;
        double loss;
        double auxLoss;

        @SuppressWarnings("unchecked")
        Gradients() {
            rows = new Map[params.size()];
            for (Param p : params) {
                if (p.sparse) {
                    rows[p.index] = new HashMap<>();
                } else {
                    dense[p.index] = new float[p.value.length];
                }
            }
        }

        void clear() {
            for (Param p : params) {
                if (p.sparse) {
                    rows[p.index].clear();
                } else {
                    Arrays.fill(dense[p.index], 0f);
                }
            }
            loss = 0;
            auxLoss = 0;
        }

        float[] of(Param p) {
            return dense[p.index];
        }

        /** The gradient row of embedding row r of p, created on first touch. */
        float[] row(Param p, int r) {
            return rows[p.index].computeIfAbsent(r, x -> new float[cfg.embeddingDim()]);
        }

        /** Adds another thread's gradients into these. */
        void add(Gradients o) {
            for (Param p : params) {
                if (p.sparse) {
                    for (Map.Entry<Integer, float[]> e : o.rows[p.index].entrySet()) {
                        float[] mine = row(p, e.getKey());
                        k.add(mine, 0, e.getValue(), 0, mine, 0, mine.length);
                    }
                } else {
                    k.add(dense[p.index], 0, o.dense[p.index], 0, dense[p.index], 0, dense[p.index].length);
                }
            }
            loss += o.loss;
            auxLoss += o.auxLoss;
        }
    }

    public Gradients newGradients() {
        return new Gradients();
    }

    /**
     * Per-thread buffers of one forward/backward pass, sized for T: the inputs and gradients every
     * model kind shares, and the passes of the head and of the model's {@link Interest}.
     */
    public final class Workspace {
        final float[] eu = new float[cfg.embeddingDim()];
        /** The candidate's item vector e_a. */
        final float[] ea = new float[cfg.itemDim()];
        /** s: the sum of the window's item vectors. */
        final float[] sum = new float[cfg.itemDim()];
        /** The window's item vectors, oldest first, {@code [T × D]}. */
        final float[] items = new float[cfg.maxHistory() * cfg.itemDim()];
        /** The head's input. */
        final float[] x = new float[headInput];
        final Mlp.Trace top = head.newTrace(1);
        final Interest.Pass interestPass = interest == null ? null : interest.newPass(cfg.maxHistory());
        // backward
        final float[] dx = new float[headInput];
        final float[] dea = new float[cfg.itemDim()];
        final float[] dsum = new float[cfg.itemDim()];
        final float[] dItems = new float[cfg.maxHistory() * cfg.itemDim()];
        /** Clicks in the window of the last forward pass. */
        int length;
        float probability;
    }

    public Workspace newWorkspace() {
        return new Workspace();
    }

    // ---------------------------------------------------------------- forward

    /**
     * Forward pass; returns the click probability, and keeps in {@code w} what {@link #backward}
     * and {@link #loss} need (for DIEN, also the auxiliary loss terms).
     */
    public float forward(Sample s, Workspace w) {
        int e = cfg.embeddingDim();
        int d = cfg.itemDim();
        int n = Math.min(s.items().length, cfg.maxHistory());
        int first = s.items().length - n;
        w.length = n;
        embeddings.user(s.user(), w.eu);
        embeddings.itemVector(s.candidateItem(), s.candidateCategory(), w.ea, 0);
        Arrays.fill(w.sum, 0f);
        for (int t = 0; t < n; t++) {
            embeddings.itemVector(s.items()[first + t], s.categories()[first + t], w.items, t * d);
            k.add(w.sum, 0, w.items, t * d, w.sum, 0, d);
        }
        int x = 0;
        System.arraycopy(w.eu, 0, w.x, x, e);
        x += e;
        System.arraycopy(w.ea, 0, w.x, x, d);
        x += d;
        System.arraycopy(w.sum, 0, w.x, x, d);
        x += d;
        if (interest != null) {
            for (int i = 0; i < d; i++) {
                w.x[x + i] = w.ea[i] * w.sum[i];
            }
            x += d;
            w.interestPass.forward(s, first, w, w.x, x);
        }
        float logit = head.forward(w.top, w.x, 0, 0);
        w.probability = Kernels.sigmoid(logit);
        return w.probability;
    }

    // ---------------------------------------------------------------- backward

    /** Backward pass of the sample last run through {@link #forward}; adds its gradients into {@code g}. */
    public void backward(Sample s, Workspace w, Gradients g) {
        int e = cfg.embeddingDim();
        int d = cfg.itemDim();
        int n = w.length;
        int first = s.items().length - n;
        float p = w.probability;
        int y = s.label();
        g.loss += -(y == 1 ? Math.log(Math.max(p, 1e-7f)) : Math.log(Math.max(1 - p, 1e-7f)));
        Arrays.fill(w.dx, 0f);
        head.backward(w.top, 0, p - y, w.dx, 0, g);
        Arrays.fill(w.dea, 0f);
        Arrays.fill(w.dsum, 0f);
        Arrays.fill(w.dItems, 0, Math.max(1, n) * d, 0f);
        // x = [e_u ; e_a ; s ; e_a ∘ s ; interest]
        embeddings.addUserGradient(g, s.user(), w.dx, 0);
        int x = e;
        k.add(w.dea, 0, w.dx, x, w.dea, 0, d);
        x += d;
        k.add(w.dsum, 0, w.dx, x, w.dsum, 0, d);
        x += d;
        if (interest != null) {
            for (int i = 0; i < d; i++) {
                w.dea[i] += w.dx[x + i] * w.sum[i];
                w.dsum[i] += w.dx[x + i] * w.ea[i];
            }
            x += d;
        }
        for (int t = 0; t < n; t++) {
            k.add(w.dItems, t * d, w.dsum, 0, w.dItems, t * d, d);
        }
        if (interest != null && n > 0) {
            w.interestPass.backward(s, first, w, w.dx, x, g);
        }
        // embeddings of the candidate and of the history
        embeddings.addItemGradient(g, s.candidateItem(), s.candidateCategory(), w.dea, 0);
        for (int t = 0; t < n; t++) {
            embeddings.addItemGradient(g, s.items()[first + t], s.categories()[first + t], w.dItems, t * d);
        }
    }

    /**
     * The training loss of one sample: binary cross-entropy of the click, plus for DIEN
     * α·(mean auxiliary loss over the history's consecutive pairs). What {@link #backward} differentiates.
     */
    public double loss(Sample s, Workspace w) {
        float p = forward(s, w);
        double loss = -(s.label() == 1 ? Math.log(p) : Math.log(1 - p));
        return interest == null ? loss : w.interestPass.withAuxiliaryLoss(loss, w);
    }

    /** Forward and backward of one sample into {@code g}; returns the click probability. */
    public float train(Sample s, Workspace w, Gradients g) {
        float p = forward(s, w);
        backward(s, w, g);
        return p;
    }
}

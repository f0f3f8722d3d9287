package io.dienflink.train;

import io.dienflink.model.Kernels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * DIEN, DIN and BaseModel as trainable networks with hand-written backpropagation, one sample at a
 * time, in float32 and the exact math of MODEL_BUNDLE.md (for DIEN: TF1 cells with the reset before
 * the candidate, the official code's AUGRU form, din-mlp attention with a PReLU query projection and
 * sigmoid layers, PReLU head without batch normalisation), so that an exported bundle scores what the
 * trainer computed. ND4J SameDiff was tried first and could not train the unrolled GRU (see the
 * trainer docs); gradients here are checked against finite differences in the tests.
 *
 * <p>Parameters use the bundle's array names and shapes. The network object holds the parameters;
 * each thread works with its own {@link Workspace} and {@link Gradients}.
 */
public final class Network {
    final TrainConfig cfg;
    final Kernels k = Kernels.best();
    /** Every parameter, in bundle order; embeddings are updated sparsely. */
    final List<Param> params = new ArrayList<>();
    final Param userEmb;
    final Param itemEmb;
    final Param catEmb;
    final Cell extractor;
    final Cell evolver;
    final Param wq;
    final Param bq;
    final Param aq;
    final Mlp attention;
    final Mlp head;

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

    /** A GRU/AUGRU cell's four arrays (gate columns r, u, c). */
    final class Cell {
        final int in;
        final Param kx;
        final Param kh;
        final Param bx;
        final Param bh;

        Cell(String prefix, int in, SplittableRandom rnd) {
            int h = cfg.hiddenDim();
            this.in = in;
            kx = glorot(prefix + ".kernel_x", in, 3 * h, rnd);
            kh = glorot(prefix + ".kernel_h", h, 3 * h, rnd);
            bx = zeros(prefix + ".bias_x", 3 * h);
            bh = zeros(prefix + ".bias_h", 3 * h);
        }
    }

    /**
     * Dense layers with an activation (sigmoid for attention, PReLU for the head) and a 1-unit
     * output layer.
     */
    final class Mlp {
        final int in;
        final int[] widths;
        final Param[] w;
        final Param[] b;
        final Param[] slope;
        final Param wOut;
        final Param bOut;
        final boolean prelu;

        Mlp(String prefix, int in, List<Integer> layers, boolean prelu, SplittableRandom rnd) {
            this.in = in;
            this.prelu = prelu;
            widths = layers.stream().mapToInt(Integer::intValue).toArray();
            w = new Param[widths.length];
            b = new Param[widths.length];
            slope = new Param[widths.length];
            int width = in;
            for (int i = 0; i < widths.length; i++) {
                String p = prefix + ".dense" + (i + 1);
                w[i] = glorot(p + ".kernel", width, widths[i], rnd);
                b[i] = zeros(p + ".bias", widths[i]);
                if (prelu) {
                    slope[i] = constant(p + ".prelu", widths[i], 0.25f);
                }
                width = widths[i];
            }
            wOut = glorot(prefix + ".out.kernel", width, 1, rnd);
            bOut = zeros(prefix + ".out.bias", 1);
        }
    }

    public Network(TrainConfig cfg, int nUsers, int nItems, int nCategories) {
        this.cfg = cfg;
        SplittableRandom rnd = new SplittableRandom(cfg.seed());
        int e = cfg.embeddingDim();
        int d = cfg.itemDim();
        int h = cfg.hiddenDim();
        userEmb = embedding("embedding.user", nUsers + 1, e, rnd);
        itemEmb = embedding("embedding.item", nItems + 1, e, rnd);
        catEmb = embedding("embedding.category", nCategories + 1, e, rnd);
        if (cfg.kind() == ModelKind.DIEN) {
            extractor = new Cell("extractor", d, rnd);
            evolver = new Cell("evolver", h, rnd);
            wq = glorot("attention.query.kernel", d, h, rnd);
            bq = zeros("attention.query.bias", h);
            aq = constant("attention.query.prelu", h, 0.25f);
        } else {
            extractor = null;
            evolver = null;
            wq = null;
            bq = null;
            aq = null;
        }
        attention = cfg.kind() == ModelKind.BASE ? null
                : new Mlp("attention", 4 * cfg.keyDim(), cfg.attentionLayers(), false, rnd);
        head = new Mlp("head", cfg.headInput(), cfg.headLayers(), true, rnd);
    }


    private Param add(String name, int[] shape, boolean sparse) {
        Param p = new Param(name, shape, sparse, params.size());
        params.add(p);
        return p;
    }

    private Param glorot(String name, int in, int out, SplittableRandom rnd) {
        Param p = add(name, new int[] {in, out}, false);
        double limit = Math.sqrt(6.0 / (in + out));
        for (int i = 0; i < p.value.length; i++) {
            p.value[i] = (float) ((rnd.nextDouble() * 2 - 1) * limit);
        }
        return p;
    }

    private Param zeros(String name, int n) {
        return add(name, new int[] {n}, false);
    }

    private Param constant(String name, int n, float v) {
        Param p = add(name, new int[] {n}, false);
        java.util.Arrays.fill(p.value, v);
        return p;
    }

    private Param embedding(String name, int rows, int e, SplittableRandom rnd) {
        Param p = add(name, new int[] {rows, e}, true);
        // row 0 (ids outside the vocabulary) stays zero: it is never trained
        for (int i = e; i < p.value.length; i++) {
            p.value[i] = (float) ((rnd.nextDouble() * 2 - 1) * 0.05);
        }
        return p;
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
                    rows[p.index] = new java.util.HashMap<>();
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
                    java.util.Arrays.fill(dense[p.index], 0f);
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

    /** Per-thread buffers of one forward/backward pass, sized for T. */
    public final class Workspace {
        final int t = cfg.maxHistory();
        final int e = cfg.embeddingDim();
        final int d = cfg.itemDim();
        final int h = cfg.hiddenDim();
        final float[] eu = new float[e];
        final float[] ea = new float[d];
        final float[] sum = new float[d];
        final float[] items = new float[t * d];
        final float[] negatives = new float[t * d];
        final CellTrace ext = extractor == null ? null : new CellTrace(t);
        final CellTrace evo = evolver == null ? null : new CellTrace(t);
        final float[] states = new float[t * h];
        final float[] interest = new float[h];
        final float[] qpre = new float[h];
        final float[] q = new float[Math.max(h, d)];
        final MlpTrace att = attention == null ? null : new MlpTrace(attention, t);
        final float[] scores = new float[t];
        final float[] weights = new float[t];
        final float[] pooled = new float[d];
        final float[] x = new float[cfg.headInput()];
        final MlpTrace top = new MlpTrace(head, 1);
        final float[] auxPos = new float[t];
        final float[] auxNeg = new float[t];
        // backward
        final float[] dx = new float[cfg.headInput()];
        final float[] dea = new float[d];
        final float[] dsum = new float[d];
        final float[] dItems = new float[t * d];
        final float[] dStates = new float[t * h];
        final float[] dInterest = new float[h];
        final float[] dq = new float[Math.max(h, d)];
        final float[] dWeights = new float[t];
        final float[] dScores = new float[t];
        final float[] dHidden = new float[Math.max(h, d)];
        final float[] scratch = new float[Math.max(3 * h, 4 * Math.max(h, d))];
        final float[] scratch2 = new float[Math.max(3 * h, 4 * Math.max(h, d))];
        final float[] zero = new float[Math.max(3 * h, 256)];
        // a cell step's and an MLP row's backward buffers, reused at every step and layer
        final float[] cellDg = new float[3 * h];
        final float[] cellDrh = new float[h];
        final float[] cellDPrev = new float[h];
        final float[] mlpDPre = new float[widestLayer()];
        final float[] mlpDAct = new float[widestLayer()];
        final float[] mlpDNext = new float[widestLayer()];
        int length;
        float probability;
    }

    /** The widest hidden layer of the head and the attention: the size of an MLP row's backward buffers. */
    private int widestLayer() {
        int widest = java.util.Arrays.stream(head.widths).max().orElse(1);
        return attention == null ? widest : Math.max(widest, java.util.Arrays.stream(attention.widths).max().orElse(1));
    }

    public Workspace newWorkspace() {
        return new Workspace();
    }

    /** Values a GRU/AUGRU pass keeps per step for its backward pass. */
    final class CellTrace {
        final int h = cfg.hiddenDim();
        final float[] gx;
        final float[] gh;
        final float[] r;
        final float[] u0;
        final float[] u;
        final float[] rh;
        final float[] c;
        final float[] out;

        CellTrace(int t) {
            gx = new float[t * 3 * h];
            gh = new float[t * 3 * h];
            r = new float[t * h];
            u0 = new float[t * h];
            u = new float[t * h];
            rh = new float[t * h];
            c = new float[t * h];
            out = new float[t * h];
        }
    }

    /** Values an MLP pass keeps per row for its backward pass. */
    final class MlpTrace {
        final float[][] pre;
        final float[][] act;
        final float[] in;

        MlpTrace(Mlp m, int rows) {
            pre = new float[m.widths.length][];
            act = new float[m.widths.length][];
            for (int i = 0; i < m.widths.length; i++) {
                pre[i] = new float[rows * m.widths[i]];
                act[i] = new float[rows * m.widths[i]];
            }
            in = new float[rows * m.in];
        }
    }

    // ---------------------------------------------------------------- forward

    private void itemVector(int item, int cat, float[] dst, int off) {
        int e = cfg.embeddingDim();
        System.arraycopy(itemEmb.value, item * e, dst, off, e);
        System.arraycopy(catEmb.value, cat * e, dst, off + e, e);
    }

    /**
     * Forward pass; returns the click probability. With {@code train}, also the auxiliary loss
     * terms (DIEN) needed by {@link #backward}.
     */
    public float forward(Sample s, Workspace w) {
        int e = cfg.embeddingDim();
        int d = cfg.itemDim();
        int h = cfg.hiddenDim();
        int n = Math.min(s.items().length, cfg.maxHistory());
        int first = s.items().length - n;
        w.length = n;
        System.arraycopy(userEmb.value, s.user() * e, w.eu, 0, e);
        itemVector(s.candidateItem(), s.candidateCategory(), w.ea, 0);
        java.util.Arrays.fill(w.sum, 0f);
        for (int t = 0; t < n; t++) {
            itemVector(s.items()[first + t], s.categories()[first + t], w.items, t * d);
            k.add(w.sum, 0, w.items, t * d, w.sum, 0, d);
        }
        int x = 0;
        System.arraycopy(w.eu, 0, w.x, x, e);
        x += e;
        System.arraycopy(w.ea, 0, w.x, x, d);
        x += d;
        System.arraycopy(w.sum, 0, w.x, x, d);
        x += d;
        if (cfg.kind() != ModelKind.BASE) {
            for (int i = 0; i < d; i++) {
                w.x[x + i] = w.ea[i] * w.sum[i];
            }
            x += d;
        }
        if (cfg.kind() == ModelKind.DIEN) {
            java.util.Arrays.fill(w.interest, 0f);
            for (int t = 0; t < n; t++) {
                cellForward(extractor, w.ext, t, w.items, t * d, t == 0 ? w.zero : w.ext.out, t == 0 ? 0 : (t - 1) * h, 0f);
            }
            System.arraycopy(w.ext.out, 0, w.states, 0, n * h);
            // auxiliary loss: h_t should score the next click above a sampled negative
            for (int t = 0; t + 1 < n; t++) {
                itemVector(s.negativeItems()[first + t + 1], s.negativeCategories()[first + t + 1], w.negatives, (t + 1) * d);
                w.auxPos[t] = k.dot(w.states, t * h, w.items, (t + 1) * d, h);
                w.auxNeg[t] = k.dot(w.states, t * h, w.negatives, (t + 1) * d, h);
            }
            k.gemv(w.ea, 0, d, wq.value, 0, h, bq.value, 0, w.qpre, 0, h);
            for (int i = 0; i < h; i++) {
                w.q[i] = w.qpre[i] > 0 ? w.qpre[i] : aq.value[i] * w.qpre[i];
            }
            attentionForward(w, w.states, h, n);
            for (int t = 0; t < n; t++) {
                // the evolver reads the extractor states; a_t scales its keep gate
                cellForward(evolver, w.evo, t, w.states, t * h, t == 0 ? w.zero : w.evo.out, t == 0 ? 0 : (t - 1) * h,
                        w.weights[t]);
            }
            if (n > 0) {
                System.arraycopy(w.evo.out, (n - 1) * h, w.interest, 0, h);
            }
            System.arraycopy(w.interest, 0, w.x, x, h);
        } else if (cfg.kind() == ModelKind.DIN) {
            System.arraycopy(w.ea, 0, w.q, 0, d);
            attentionForward(w, w.items, d, n);
            java.util.Arrays.fill(w.pooled, 0f);
            for (int t = 0; t < n; t++) {
                k.axpy(w.weights[t], w.items, t * d, w.pooled, 0, d);
            }
            System.arraycopy(w.pooled, 0, w.x, x, d);
        }
        float logit = mlpForward(head, w.top, w.x, 0, 0);
        w.probability = Kernels.sigmoid(logit);
        return w.probability;
    }

    /** One GRU/AUGRU step at position t; {@code a} is the AUGRU attention weight (0 for a plain GRU). */
    private void cellForward(Cell cell, CellTrace tr, int t, float[] in, int inOff, float[] prev, int prevOff, float a) {
        int h = cfg.hiddenDim();
        int g = t * 3 * h;
        int o = t * h;
        k.gemv(in, inOff, cell.in, cell.kx.value, 0, 3 * h, cell.bx.value, 0, tr.gx, g, 3 * h);
        // reset before: the r and u columns of K_h from h, the c columns from r ∘ h
        k.gemv(prev, prevOff, h, cell.kh.value, 0, 3 * h, cell.bh.value, 0, tr.gh, g, 2 * h);
        for (int i = 0; i < h; i++) {
            float r = Kernels.sigmoid(tr.gx[g + i] + tr.gh[g + i]);
            float u0 = Kernels.sigmoid(tr.gx[g + h + i] + tr.gh[g + h + i]);
            tr.r[o + i] = r;
            tr.u0[o + i] = u0;
            tr.u[o + i] = (1f - a) * u0;
            tr.rh[o + i] = r * prev[prevOff + i];
        }
        k.gemv(tr.rh, o, h, cell.kh.value, 2 * h, 3 * h, cell.bh.value, 2 * h, tr.gh, g + 2 * h, h);
        for (int i = 0; i < h; i++) {
            float c = (float) Math.tanh(tr.gx[g + 2 * h + i] + tr.gh[g + 2 * h + i]);
            tr.c[o + i] = c;
            float u = tr.u[o + i];
            tr.out[o + i] = u * prev[prevOff + i] + (1f - u) * c;
        }
    }

    /** Attention logits of the query {@code w.q} against n key rows, then softmax into {@code w.weights}. */
    private void attentionForward(Workspace w, float[] keys, int kd, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < n; t++) {
            float[] z = w.att.in;
            int zo = t * 4 * kd;
            for (int i = 0; i < kd; i++) {
                float q = w.q[i];
                float key = keys[t * kd + i];
                z[zo + i] = q;
                z[zo + kd + i] = key;
                z[zo + 2 * kd + i] = q - key;
                z[zo + 3 * kd + i] = q * key;
            }
            w.scores[t] = mlpForward(attention, w.att, z, zo, t);
            max = Math.max(max, w.scores[t]);
        }
        double total = 0;
        for (int t = 0; t < n; t++) {
            w.weights[t] = (float) Math.exp(w.scores[t] - max);
            total += w.weights[t];
        }
        for (int t = 0; t < n; t++) {
            w.weights[t] /= (float) total;
        }
    }

    /** Row {@code row} of an MLP (input at in[inOff..]); returns the output logit. */
    private float mlpForward(Mlp m, MlpTrace tr, float[] in, int inOff, int row) {
        if (in != tr.in) {
            System.arraycopy(in, inOff, tr.in, row * m.in, m.in);
        }
        float[] src = tr.in;
        int srcOff = row * m.in;
        int width = m.in;
        for (int l = 0; l < m.widths.length; l++) {
            int wl = m.widths[l];
            float[] pre = tr.pre[l];
            float[] act = tr.act[l];
            int o = row * wl;
            k.gemv(src, srcOff, width, m.w[l].value, 0, wl, m.b[l].value, 0, pre, o, wl);
            for (int i = 0; i < wl; i++) {
                float v = pre[o + i];
                act[o + i] = m.prelu ? (v > 0 ? v : m.slope[l].value[i] * v) : Kernels.sigmoid(v);
            }
            src = act;
            srcOff = o;
            width = wl;
        }
        return k.dot(src, srcOff, m.wOut.value, 0, width) + m.bOut.value[0];
    }

    // ---------------------------------------------------------------- backward

    /** Backward pass of the sample last run through {@link #forward}; adds its gradients into {@code g}. */
    public void backward(Sample s, Workspace w, Gradients g) {
        int e = cfg.embeddingDim();
        int d = cfg.itemDim();
        int h = cfg.hiddenDim();
        int n = w.length;
        int first = s.items().length - n;
        float p = w.probability;
        int y = s.label();
        g.loss += -(y == 1 ? Math.log(Math.max(p, 1e-7f)) : Math.log(Math.max(1 - p, 1e-7f)));
        java.util.Arrays.fill(w.dx, 0f);
        mlpBackward(w, g, head, w.top, 0, p - y, w.dx, 0);
        java.util.Arrays.fill(w.dea, 0f);
        java.util.Arrays.fill(w.dsum, 0f);
        java.util.Arrays.fill(w.dItems, 0, Math.max(1, n) * d, 0f);
        // x = [e_u ; e_a ; s ; e_a ∘ s ; interest]
        float[] du = g.row(userEmb, s.user());
        k.add(du, 0, w.dx, 0, du, 0, e);
        int x = e;
        k.add(w.dea, 0, w.dx, x, w.dea, 0, d);
        x += d;
        k.add(w.dsum, 0, w.dx, x, w.dsum, 0, d);
        x += d;
        if (cfg.kind() != ModelKind.BASE) {
            for (int i = 0; i < d; i++) {
                w.dea[i] += w.dx[x + i] * w.sum[i];
                w.dsum[i] += w.dx[x + i] * w.ea[i];
            }
            x += d;
        }
        for (int t = 0; t < n; t++) {
            k.add(w.dItems, t * d, w.dsum, 0, w.dItems, t * d, d);
        }
        if (cfg.kind() == ModelKind.DIEN && n > 0) {
            dienBackward(s, w, g, x, n, first);
        } else if (cfg.kind() == ModelKind.DIN && n > 0) {
            // pooled = Σ a_t e_t
            for (int t = 0; t < n; t++) {
                w.dWeights[t] = k.dot(w.dx, x, w.items, t * d, d);
                k.axpy(w.weights[t], w.dx, x, w.dItems, t * d, d);
            }
            java.util.Arrays.fill(w.dq, 0f);
            attentionBackward(w, g, w.items, w.dItems, d, n);
            k.add(w.dea, 0, w.dq, 0, w.dea, 0, d);
        }
        // embeddings of the candidate and of the history
        addItemGradient(g, s.candidateItem(), s.candidateCategory(), w.dea, 0);
        for (int t = 0; t < n; t++) {
            addItemGradient(g, s.items()[first + t], s.categories()[first + t], w.dItems, t * d);
        }
    }

    private void dienBackward(Sample s, Workspace w, Gradients g, int x, int n, int first) {
        int d = cfg.itemDim();
        int h = cfg.hiddenDim();
        java.util.Arrays.fill(w.dStates, 0, n * h, 0f);
        // evolver, newest step first; d(interest) comes from the head
        System.arraycopy(w.dx, x, w.dInterest, 0, h);
        for (int t = n - 1; t >= 0; t--) {
            java.util.Arrays.fill(w.cellDPrev, 0f);
            w.dWeights[t] = cellBackward(w, evolver, w.evo, t, w.states, t * h, t == 0 ? w.zero : w.evo.out,
                    t == 0 ? 0 : (t - 1) * h, w.weights[t], w.dInterest, w.cellDPrev, w.dStates, t * h, g);
            System.arraycopy(w.cellDPrev, 0, w.dInterest, 0, h);
        }
        // attention: query q = PReLU(e_a·Wq + bq) against the states
        java.util.Arrays.fill(w.dq, 0f);
        attentionBackward(w, g, w.states, w.dStates, h, n);
        float[] dwq = g.of(wq);
        float[] dbq = g.of(bq);
        float[] daq = g.of(aq);
        for (int i = 0; i < h; i++) {
            float pre = w.qpre[i];
            if (pre > 0) {
                w.scratch[i] = w.dq[i];
            } else {
                w.scratch[i] = w.dq[i] * aq.value[i];
                daq[i] += w.dq[i] * pre;
            }
        }
        linearBackward(w.ea, 0, d, wq.value, 0, h, w.scratch, 0, h, dwq, dbq, 0, w.dea, 0);
        // auxiliary loss: −log σ(h_t·e_{t+1}) − log(1 − σ(h_t·e⁻_{t+1})), averaged over the pairs
        if (n > 1) {
            float scale = (float) (cfg.auxWeight() / (n - 1));
            for (int t = 0; t + 1 < n; t++) {
                float sp = Kernels.sigmoid(w.auxPos[t]);
                float sn = Kernels.sigmoid(w.auxNeg[t]);
                g.auxLoss += -(Math.log(Math.max(sp, 1e-7f)) + Math.log(Math.max(1 - sn, 1e-7f))) / (n - 1);
                float dp = scale * (sp - 1f);
                float dn = scale * sn;
                k.axpy(dp, w.items, (t + 1) * d, w.dStates, t * h, h);
                k.axpy(dn, w.negatives, (t + 1) * d, w.dStates, t * h, h);
                k.axpy(dp, w.states, t * h, w.dItems, (t + 1) * d, h);
                java.util.Arrays.fill(w.scratch2, 0, d, 0f);
                k.axpy(dn, w.states, t * h, w.scratch2, 0, h);
                addItemGradient(g, s.negativeItems()[first + t + 1], s.negativeCategories()[first + t + 1], w.scratch2, 0);
            }
        }
        // extractor, newest step first; dStates holds what attention, evolver and aux loss sent each h_t
        java.util.Arrays.fill(w.dHidden, 0, h, 0f);
        for (int t = n - 1; t >= 0; t--) {
            k.add(w.dStates, t * h, w.dHidden, 0, w.dHidden, 0, h);
            System.arraycopy(w.dHidden, 0, w.scratch2, 0, h);
            java.util.Arrays.fill(w.dHidden, 0, h, 0f);
            cellBackward(w, extractor, w.ext, t, w.items, t * d, t == 0 ? w.zero : w.ext.out, t == 0 ? 0 : (t - 1) * h,
                    0f, w.scratch2, w.dHidden, w.dItems, t * d, g);
        }
    }

    /**
     * GRU/AUGRU step backward: {@code dOut} is the gradient of the step's output state; the previous
     * state's is added to {@code dPrev} and the input's to {@code dIn}. At the first step {@code prev}
     * is zeros. Returns d(loss)/d(a), the AUGRU attention weight's gradient (0 for a plain GRU).
     */
    private float cellBackward(Workspace w, Cell cell, CellTrace tr, int t, float[] in, int inOff, float[] prev,
                               int prevOff, float a, float[] dOut, float[] dPrev, float[] dIn, int dInOff, Gradients g) {
        int h = cfg.hiddenDim();
        int o = t * h;
        float[] dg = w.cellDg;
        float[] dRh = w.cellDrh;
        java.util.Arrays.fill(dRh, 0f);
        float da = 0f;
        for (int i = 0; i < h; i++) {
            float hp = prev[prevOff + i];
            float dh = dOut[i];
            float u = tr.u[o + i];
            float c = tr.c[o + i];
            dPrev[i] += dh * u;
            float du = dh * (hp - c);
            float dc = dh * (1f - u);
            float dcpre = dc * (1f - c * c);
            dg[2 * h + i] = dcpre; // d(gx_c) = d(gh_c) = dcpre
            float u0 = tr.u0[o + i];
            da -= du * u0;
            float du0 = du * (1f - a);
            dg[h + i] = du0 * u0 * (1f - u0);
        }
        // gh_c = (r ∘ h_prev)·K_h.c + b_h.c
        float[] dkh = g.of(cell.kh);
        float[] dbh = g.of(cell.bh);
        linearBackward(tr.rh, o, h, cell.kh.value, 2 * h, 3 * h, dg, 2 * h, h, dkh, dbh, 2 * h, dRh, 0);
        for (int i = 0; i < h; i++) {
            float hp = prev[prevOff + i];
            float r = tr.r[o + i];
            dPrev[i] += dRh[i] * r;
            float dr = dRh[i] * hp;
            dg[i] = dr * r * (1f - r);
        }
        // gh_ru = h_prev·K_h.ru + b_h.ru (a zero h_prev adds nothing to K_h's gradient)
        linearBackward(prev, prevOff, h, cell.kh.value, 0, 3 * h, dg, 0, 2 * h, dkh, dbh, 0, dPrev, 0);
        // gx = x·K_x + b_x
        linearBackward(in, inOff, cell.in, cell.kx.value, 0, 3 * h, dg, 0, 3 * h, g.of(cell.kx), g.of(cell.bx), 0, dIn, dInOff);
        return da;
    }

    /** Gradients of the attention logits (via softmax) into the query ({@code w.dq}) and the keys ({@code dKeys}). */
    private void attentionBackward(Workspace w, Gradients g, float[] keys, float[] dKeys, int kd, int n) {
        float dot = 0f;
        for (int t = 0; t < n; t++) {
            dot += w.weights[t] * w.dWeights[t];
        }
        for (int t = 0; t < n; t++) {
            w.dScores[t] = w.weights[t] * (w.dWeights[t] - dot);
        }
        for (int t = 0; t < n; t++) {
            float[] dz = w.scratch;
            java.util.Arrays.fill(dz, 0, 4 * kd, 0f);
            mlpBackward(w, g, attention, w.att, t, w.dScores[t], dz, 0);
            for (int i = 0; i < kd; i++) {
                float q = w.q[i];
                float key = keys[t * kd + i];
                w.dq[i] += dz[i] + dz[2 * kd + i] + dz[3 * kd + i] * key;
                dKeys[t * kd + i] += dz[kd + i] - dz[2 * kd + i] + dz[3 * kd + i] * q;
            }
        }
    }

    /** MLP backward for one row, given d(loss)/d(output logit); adds d(loss)/d(input) to {@code dIn}. */
    private void mlpBackward(Workspace w, Gradients g, Mlp m, MlpTrace tr, int row, float dLogit, float[] dIn, int dInOff) {
        int layers = m.widths.length; // at least one: ModelConfig and TrainConfig require it
        // the last hidden layer's activations feed the output unit
        int lastWidth = m.widths[layers - 1];
        int lastOff = row * lastWidth;
        float[] dwo = g.of(m.wOut);
        k.axpy(dLogit, tr.act[layers - 1], lastOff, dwo, 0, lastWidth);
        g.of(m.bOut)[0] += dLogit;
        float[] dAct = w.mlpDAct;
        k.scale(m.wOut.value, 0, dLogit, dAct, 0, lastWidth);
        float[] dPre = w.mlpDPre;
        for (int l = layers - 1; l >= 0; l--) {
            int wl = m.widths[l];
            int o = row * wl;
            float[] pre = tr.pre[l];
            for (int i = 0; i < wl; i++) {
                float v = pre[o + i];
                if (m.prelu) {
                    if (v > 0) {
                        dPre[i] = dAct[i];
                    } else {
                        dPre[i] = dAct[i] * m.slope[l].value[i];
                        g.of(m.slope[l])[i] += dAct[i] * v;
                    }
                } else {
                    float a = tr.act[l][o + i];
                    dPre[i] = dAct[i] * a * (1f - a);
                }
            }
            int inWidth = l == 0 ? m.in : m.widths[l - 1];
            float[] in = l == 0 ? tr.in : tr.act[l - 1];
            int inOff = row * inWidth;
            if (l == 0) {
                linearBackward(in, inOff, inWidth, m.w[l].value, 0, wl, dPre, 0, wl, g.of(m.w[l]), g.of(m.b[l]), 0, dIn, dInOff);
            } else {
                // the layer below's activation gradient: the other buffer, cleared, then swapped in
                float[] dNext = dAct == w.mlpDAct ? w.mlpDNext : w.mlpDAct;
                java.util.Arrays.fill(dNext, 0, inWidth, 0f);
                linearBackward(in, inOff, inWidth, m.w[l].value, 0, wl, dPre, 0, wl, g.of(m.w[l]), g.of(m.b[l]), 0, dNext, 0);
                dAct = dNext;
            }
        }
    }

    /**
     * For y = x·W[:, col..col+n) + b[col..]: dW += xᵀ·dy, db += dy, dx += W·dy (x has {@code in}
     * values, W rows have stride {@code ldw}).
     */
    private void linearBackward(float[] x, int xOff, int in, float[] w, int col, int ldw, float[] dy, int dyOff, int n,
                                float[] dw, float[] db, int bCol, float[] dx, int dxOff) {
        for (int i = 0; i < in; i++) {
            k.axpy(x[xOff + i], dy, dyOff, dw, i * ldw + col, n);
            dx[dxOff + i] += k.dot(w, i * ldw + col, dy, dyOff, n);
        }
        k.add(db, bCol, dy, dyOff, db, bCol, n);
    }

    private void addItemGradient(Gradients g, int item, int cat, float[] d, int off) {
        int e = cfg.embeddingDim();
        float[] gi = g.row(itemEmb, item);
        k.add(gi, 0, d, off, gi, 0, e);
        float[] gc = g.row(catEmb, cat);
        k.add(gc, 0, d, off + e, gc, 0, e);
    }

    /**
     * The training loss of one sample: binary cross-entropy of the click, plus for DIEN
     * α·(mean auxiliary loss over the history's consecutive pairs). What {@link #backward} differentiates.
     */
    public double loss(Sample s, Workspace w) {
        float p = forward(s, w);
        double loss = -(s.label() == 1 ? Math.log(p) : Math.log(1 - p));
        int n = w.length;
        if (cfg.kind() == ModelKind.DIEN && n > 1) {
            double aux = 0;
            for (int t = 0; t + 1 < n; t++) {
                aux -= Math.log(Kernels.sigmoid(w.auxPos[t])) + Math.log(1 - Kernels.sigmoid(w.auxNeg[t]));
            }
            loss += cfg.auxWeight() * aux / (n - 1);
        }
        return loss;
    }

    /** Forward and backward of one sample into {@code g}; returns the click probability. */
    public float train(Sample s, Workspace w, Gradients g) {
        float p = forward(s, w);
        backward(s, w, g);
        return p;
    }
}

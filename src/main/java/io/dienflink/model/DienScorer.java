package io.dienflink.model;

import java.util.Arrays;

/**
 * Computes DIEN for one thread: owns the scratch buffers so that appending a click and scoring a
 * request allocate nothing once warmed up (buffers grow with the largest request seen). Use one
 * instance per thread or Flink subtask; the {@link DienModel} it wraps is shared.
 *
 * <p>Work is placed where it is cheapest: per click, one extractor step; per request, the window's
 * projections through the evolver's input kernel and the attention's state-only term, the user and
 * history-sum part of the head; per candidate, only what depends on the candidate.
 *
 * <p>{@link Batching#BATCHED} (the default) computes a request's candidates together: their
 * attention queries as one product over all candidates, and the AUGRU with candidates as the lanes
 * of the state ({@code hᵀ [H × C]}), so each step is one {@code K_hᵀ·hᵀ} product for all of them
 * and the gate math runs over C lanes per hidden unit with no padded hidden lanes; for fewer than
 * three vectors of candidates, or when rounding C up to the vector width would waste more lanes
 * than padding H does, the candidates are rows instead ({@code h [C × pad(H)]}, see
 * {@link #lanesPay}). {@link Batching#PER_CANDIDATE} is the earlier path (attention one candidate
 * at a time, AUGRU with candidates as rows), kept as the benchmarks' baseline and the tests'
 * reference.
 */
public final class DienScorer {
    /** How the candidates of a request are computed; see the class comment. */
    public enum Batching {
        /** Attention one candidate at a time, AUGRU with candidates as rows: the baseline. */
        PER_CANDIDATE,
        /** Candidate-only attention terms as one product, AUGRU with candidates as lanes or rows. */
        BATCHED
    }

    private final DienModel model;
    private final Kernels k;
    private final int itemDim;
    private final int itemStride;
    private final int stateStride;
    private final int maxHistory;
    private final GruCell extractor;
    private final GruCell evolver;
    private final DinAttention din;
    private final BilinearAttention bilinear;
    private final Head head;
    private final AugruForm form;
    private final Batching batching;
    /** Tests only: candidates as lanes whatever their number, to cover that layout at small C. */
    private final boolean alwaysLanes;
    private final GruCell.LaneScratch laneScratch = new GruCell.LaneScratch();

    private final float[] click;
    private final float[] clickGates;
    /** A padded row for {@link #advance}; its padding lanes stay zero. */
    private final float[] detached;
    private final GruCell.Scratch extractorScratch = new GruCell.Scratch();
    private final GruCell.Scratch evolverScratch = new GruCell.Scratch();
    private final float[] windowStates;
    private final float[] windowItems;
    private final float[] windowGates;
    private final float[] user;
    private final float[] historySum;
    private final float[] headBase;
    private final float[] headItemKernel;
    private final float[] attentionProjection;
    private final float[] evolverProjection;
    private final DinAttention.Workspace dinWorkspace;
    private final float[] bilinearScratch;

    private int candidateCapacity;
    private float[] candidateItems;
    private float[] attention;
    private float[] attentionColumn;
    private float[] interests;
    private float[] logits;
    private float[] headZ1;
    private float[] headZ2;
    /** Batched path: every candidate's attention query rows and their first-layer term (din-mlp) or W·e_a (bilinear). */
    private float[] queries;
    private float[] queryParts;
    /** Batched path, candidates as lanes: the AUGRU state {@code [H × lanes]} and each step's keep-gate factors. */
    private float[] laneStates;
    private float[] laneMul;
    private float[] laneAdd;

    DienScorer(DienModel model) {
        this(model, Batching.BATCHED, false);
    }

    DienScorer(DienModel model, Batching batching, boolean alwaysLanes) {
        this.model = model;
        this.batching = batching;
        this.alwaysLanes = alwaysLanes;
        this.k = model.kernels();
        ModelConfig c = model.config();
        this.itemDim = c.itemDim();
        this.itemStride = Kernels.pad(itemDim);
        this.stateStride = Kernels.pad(c.hiddenDim());
        this.maxHistory = c.maxHistory();
        this.extractor = model.extractor;
        this.evolver = model.evolver;
        this.din = model.din;
        this.bilinear = model.bilinear;
        this.head = model.head;
        this.form = c.evolver().form();
        click = new float[itemStride];
        clickGates = new float[extractor.gateStride];
        detached = new float[stateStride];
        user = new float[Kernels.pad(c.embeddingDim())];
        historySum = new float[itemStride];
        headBase = new float[head.first.width];
        headItemKernel = new float[itemDim * head.first.width];
        windowStates = new float[maxHistory * stateStride];
        windowItems = new float[maxHistory * itemStride];
        windowGates = new float[maxHistory * extractor.gateStride];
        attentionProjection = din == null ? null : new float[maxHistory * din.projectionWidth()];
        evolverProjection = new float[maxHistory * evolver.gateStride];
        dinWorkspace = din == null ? null : new DinAttention.Workspace(din);
        if (din != null) {
            dinWorkspace.ensureRows(din, maxHistory);
        }
        bilinearScratch = new float[stateStride];
        ensureCandidates(16);
    }

    public DienModel model() {
        return model;
    }

    /** A state with no clicks for this scorer's model. */
    public InterestState newState() {
        return InterestState.empty(model);
    }

    private void ensureCandidates(int n) {
        if (n <= candidateCapacity) {
            return;
        }
        int cap = Math.max(n, 2 * candidateCapacity);
        candidateItems = new float[cap * itemStride];
        attention = new float[cap * maxHistory];
        attentionColumn = new float[cap];
        interests = new float[cap * stateStride];
        logits = new float[cap];
        headZ1 = new float[cap * head.maxWidth()];
        headZ2 = new float[cap * head.maxWidth()];
        queries = new float[cap * (din != null ? din.queryStride() : stateStride)];
        queryParts = din == null ? null : new float[cap * din.projectionWidth()];
        int lanes = laneCount(cap);
        laneStates = new float[model.config().hiddenDim() * lanes];
        laneMul = new float[lanes];
        laneAdd = new float[lanes];
        candidateCapacity = cap;
    }

    private void requireModel(InterestState s) {
        if (s.modelFingerprint != model.fingerprint64()) {
            throw new IllegalStateException("state was built by model " + Long.toHexString(s.modelFingerprint)
                    + ", not by " + model + "; rebuild it first");
        }
    }

    void append(InterestState s, long item, long category) {
        requireModel(s);
        model.itemVector(item, category, click, 0);
        extractor.inputProjection(k, click, 0, itemStride, 1, clickGates, 0);
        int dst = s.next * stateStride;
        if (s.count == 0) {
            Arrays.fill(s.states, dst, dst + stateStride, 0f);
        } else {
            int prev = Ring.before(s.next, s.capacity);
            if (prev != s.next) {
                System.arraycopy(s.states, prev * stateStride, s.states, dst, stateStride);
            }
        }
        extractor.step(k, clickGates, 0, 0, s.states, dst, stateStride, 1, null, 0, form, extractorScratch);
        s.items[s.next] = item;
        s.categories[s.next] = category;
        s.next = Ring.after(s.next, s.capacity);
        s.count = Ring.grown(s.count, s.capacity);
        s.totalClicks++;
    }

    /**
     * One extractor cell step for a state kept outside an {@link InterestState}, as a store that
     * keeps only the newest state per user does on each click. Allocates nothing.
     *
     * @param state the newest extractor state (H floats, zeros for a user's first click), replaced
     *     by the state after this click
     */
    public void advance(float[] state, long itemId, long categoryId) {
        int h = model.config().hiddenDim();
        if (state.length != h) {
            throw new IllegalArgumentException("state has " + state.length + " floats, the model's hidden size is " + h);
        }
        model.itemVector(itemId, categoryId, click, 0);
        extractor.inputProjection(k, click, 0, itemStride, 1, clickGates, 0);
        System.arraycopy(state, 0, detached, 0, h);
        extractor.step(k, clickGates, 0, 0, detached, 0, stateStride, 1, null, 0, form, extractorScratch);
        System.arraycopy(detached, 0, state, 0, h);
    }

    /**
     * Loads a window kept in compact form (raw ids plus one extractor state) into {@code into},
     * reusing its arrays: the states of the window's clicks are recomputed by {@code count − 1} cell
     * steps (or {@code count} from zero), each the very single-row step {@link #advance} takes, so a
     * store that advances its newest state with {@link #advance} gets it back bit for bit here.
     *
     * @param into receives the window laid out from slot 0, under this scorer's model
     * @param totalClicks clicks appended over the user's life (at least {@code count})
     * @param items the window's item ids, oldest first (the first {@code count} are used)
     * @param categories the window's category ids, oldest first
     * @param count clicks in the window, at most the model's {@code maxHistory}
     * @param first the extractor state after the window's oldest click (H floats), or null to run the
     *     extractor from zero over the whole window (windowed semantics: what a rebuild under another
     *     model gives)
     * @return {@code into}
     */
    public InterestState replay(InterestState into, long totalClicks, long[] items, long[] categories, int count,
                                float[] first) {
        int h = model.config().hiddenDim();
        if (count < 0 || count > maxHistory || count > items.length || count > categories.length || totalClicks < count) {
            throw new IllegalArgumentException("a window of " + count + " clicks (total " + totalClicks + ", ids "
                    + items.length + "/" + categories.length + ") for a model of maxHistory " + maxHistory);
        }
        if (first != null && first.length != h) {
            throw new IllegalArgumentException("first state has " + first.length + " floats, the model's hidden size is " + h);
        }
        into.reset(model.fingerprint64(), maxHistory, h, totalClicks, count, Ring.nextAfterLayout(count, maxHistory));
        float[] states = into.states;
        for (int t = 0; t < count; t++) {
            into.items[t] = items[t];
            into.categories[t] = categories[t];
            int dst = t * stateStride;
            if (t == 0 && first != null) {
                Arrays.fill(states, dst, dst + stateStride, 0f);
                System.arraycopy(first, 0, states, dst, h);
                continue;
            }
            // the padded row advance() steps, from the previous state (or zero)
            Arrays.fill(detached, 0f);
            if (t > 0) {
                System.arraycopy(states, dst - stateStride, detached, 0, h);
            }
            model.itemVector(items[t], categories[t], click, 0);
            extractor.inputProjection(k, click, 0, itemStride, 1, clickGates, 0);
            extractor.step(k, clickGates, 0, 0, detached, 0, stateStride, 1, null, 0, form, extractorScratch);
            System.arraycopy(detached, 0, states, dst, stateStride);
        }
        return into;
    }

    /** Windowed extractor states of the state's stored clicks, oldest first, into {@code out}. */
    private void recompute(InterestState s, int first, int rows, float[] out) {
        // Buffers were sized for maxHistory rows at construction; a state of this model never holds more.
        for (int t = 0; t < rows; t++) {
            int slot = s.slot(first + t);
            model.itemVector(s.items[slot], s.categories[slot], windowItems, t * itemStride);
        }
        int gs = extractor.gateStride;
        extractor.inputProjection(k, windowItems, 0, itemStride, rows, windowGates, 0);
        for (int t = 0; t < rows; t++) {
            int dst = t * stateStride;
            if (t == 0) {
                Arrays.fill(out, 0, stateStride, 0f);
            } else {
                System.arraycopy(out, dst - stateStride, out, dst, stateStride);
            }
            extractor.step(k, windowGates, t * gs, 0, out, dst, stateStride, 1, null, 0, form, extractorScratch);
        }
    }

    void rebuild(InterestState s) {
        int keep = Math.min(s.count, maxHistory);
        int first = s.count - keep;
        float[] states = new float[maxHistory * stateStride];
        long[] items = new long[maxHistory];
        long[] categories = new long[maxHistory];
        for (int t = 0; t < keep; t++) {
            int slot = s.slot(first + t);
            items[t] = s.items[slot];
            categories[t] = s.categories[slot];
        }
        // recompute reads ids through the old ring, so it runs before the arrays are swapped.
        recompute(s, first, keep, windowStates);
        System.arraycopy(windowStates, 0, states, 0, keep * stateStride);
        s.modelFingerprint = model.fingerprint64();
        s.capacity = maxHistory;
        s.hidden = model.config().hiddenDim();
        s.stride = stateStride;
        s.items = items;
        s.categories = categories;
        s.states = states;
        s.count = keep;
        s.next = Ring.nextAfterLayout(keep, maxHistory);
    }

    void score(InterestState s, long userId, long[] itemIds, long[] categoryIds, int n, Semantics semantics,
               float[] ctr, ScoreTrace trace) {
        requireModel(s);
        if (n > itemIds.length || n > categoryIds.length || n > ctr.length) {
            throw new IllegalArgumentException("n = " + n + " exceeds the candidate or output arrays");
        }
        ensureCandidates(n);
        int rows = s.count;
        float[] states;
        int start;
        int ring;
        if (semantics == Semantics.WINDOWED && rows > 0) {
            recompute(s, 0, rows, windowStates);
            states = windowStates;
            start = 0;
            ring = rows;
        } else {
            states = s.states;
            start = s.oldestSlot();
            ring = s.capacity;
        }

        // Request level: user vector, history sum, head base, per-state projections.
        model.userVector(userId, user, 0);
        Arrays.fill(historySum, 0f);
        for (int t = 0; t < rows; t++) {
            int slot = s.slot(t);
            model.addItemVector(s.items[slot], s.categories[slot], historySum, 0);
        }
        head.prepareRequest(k, user, historySum, headBase, headItemKernel);
        for (int c = 0; c < n; c++) {
            model.itemVector(itemIds[c], categoryIds[c], candidateItems, c * itemStride);
        }
        Arrays.fill(interests, 0, n * stateStride, 0f);
        if (rows > 0) {
            evolver.inputProjection(k, states, 0, stateStride, rows, evolverProjection, 0);
            if (din != null) {
                din.projectStates(k, states, rows, attentionProjection);
            }
            if (batching == Batching.PER_CANDIDATE) {
                for (int c = 0; c < n; c++) {
                    if (din != null) {
                        din.logits(k, candidateItems, c * itemStride, states, rows, attentionProjection, attention,
                                c * maxHistory, dinWorkspace);
                    } else {
                        bilinear.logits(k, candidateItems, c * itemStride, states, rows, attention, c * maxHistory,
                                bilinearScratch);
                    }
                    softmax(c, rows, start, ring);
                }
            } else {
                // The candidate-only terms of all candidates as one product each, then the
                // per-(candidate, state) part candidate by candidate.
                if (din != null) {
                    din.queries(k, candidateItems, 0, itemStride, n, queries, queryParts);
                } else {
                    bilinear.keys(k, candidateItems, 0, itemStride, n, queries);
                }
                int qs = din != null ? din.queryStride() : stateStride;
                for (int c = 0; c < n; c++) {
                    if (din != null) {
                        din.logitsOfQuery(k, queries, c * qs, queryParts, c * din.projectionWidth(), states, rows,
                                attentionProjection, attention, c * maxHistory, dinWorkspace);
                    } else {
                        bilinear.logitsOfKey(k, queries, c * qs, states, rows, attention, c * maxHistory);
                    }
                    softmax(c, rows, start, ring);
                }
            }
            if (batching == Batching.BATCHED && (alwaysLanes || lanesPay(n))) {
                evolveInLanes(n, rows, start, ring);
            } else {
                evolveInRows(n, rows, start, ring);
            }
        }
        head.logits(k, headBase, headItemKernel, candidateItems, itemStride, interests, stateStride, n, logits, 0,
                headZ1, headZ2);
        for (int c = 0; c < n; c++) {
            ctr[c] = Kernels.sigmoid(logits[c]);
        }
        if (trace != null) {
            fillTrace(trace, states, start, ring, rows, n);
        }
    }

    /** Attention weights of candidate {@code c}: its logits in place become their softmax over the window. */
    private void softmax(int c, int rows, int start, int ring) {
        int a = c * maxHistory;
        float max = Float.NEGATIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
            max = Math.max(max, attention[a + r]);
        }
        k.expShifted(attention, a, rows, max);
        // Summed oldest first, like the reference, whatever slot the ring starts at.
        float sum = 0f;
        for (int t = 0; t < rows; t++) {
            sum += attention[a + Ring.wrap(start + t, ring)];
        }
        k.scale(attention, a, 1f / sum, attention, a, rows);
    }

    /** Candidates rounded up to whole vectors: the lane stride of {@link #evolveInLanes}. */
    private int laneCount(int n) {
        int l = k.lanes();
        return (n + l - 1) / l * l;
    }

    /**
     * Whether candidates as lanes beat candidates as rows. Lanes need at least three vectors of
     * candidates, so that the step's products run in 4×3 or wider register blocks: with one or two
     * they run in 4×1 blocks that wait on loads, and the lane layout measured slower than rows at 16
     * and 32 candidates (512-bit vectors; faster from 48 on). And they must waste no more lanes than
     * rows do: lanes round C up to the vector width, rows round H up to {@link Kernels#PAD}
     * (36 of 48 lanes at H = 36).
     */
    private boolean lanesPay(int n) {
        int ld = laneCount(n);
        return ld >= 3 * k.lanes() && (long) ld * model.config().hiddenDim() <= (long) n * stateStride;
    }

    /** The AUGRU over the window in time order with candidates as rows of {@link #interests}. */
    private void evolveInRows(int n, int rows, int start, int ring) {
        int gs = evolver.gateStride;
        for (int t = 0; t < rows; t++) {
            int slot = Ring.wrap(start + t, ring);
            for (int c = 0; c < n; c++) {
                attentionColumn[c] = attention[c * maxHistory + slot];
            }
            evolver.step(k, evolverProjection, slot * gs, 0, interests, 0, stateStride, n, attentionColumn, 0,
                    form, evolverScratch);
        }
    }

    /**
     * The AUGRU over the window in time order with candidates as lanes ({@link GruCell#stepLanes}),
     * the final states then copied into rows of {@link #interests}. Padding lanes get attention 0;
     * they compute bounded garbage that is never read.
     */
    private void evolveInLanes(int n, int rows, int start, int ring) {
        int h = model.config().hiddenDim();
        int ld = laneCount(n);
        int gs = evolver.gateStride;
        Arrays.fill(laneStates, 0, h * ld, 0f);
        // form code: u ← (1 − a)·u; form paper: u ← 1 − a·(1 − u) = a·u + (1 − a). Padding lanes
        // keep u = 1, so their state stays exactly zero.
        Arrays.fill(laneMul, n, ld, 0f);
        Arrays.fill(laneAdd, 0, n, 0f);
        Arrays.fill(laneAdd, n, ld, 1f);
        for (int t = 0; t < rows; t++) {
            int slot = Ring.wrap(start + t, ring);
            for (int c = 0; c < n; c++) {
                float a = attention[c * maxHistory + slot];
                if (form == AugruForm.CODE) {
                    laneMul[c] = 1f - a;
                } else {
                    laneMul[c] = a;
                    laneAdd[c] = 1f - a;
                }
            }
            evolver.stepLanes(k, evolverProjection, slot * gs, laneStates, ld, laneMul, laneAdd, 0, laneScratch);
        }
        for (int i = 0; i < h; i++) {
            for (int c = 0; c < n; c++) {
                interests[c * stateStride + i] = laneStates[i * ld + c];
            }
        }
    }

    private void fillTrace(ScoreTrace trace, float[] states, int start, int ring, int rows, int n) {
        int h = model.config().hiddenDim();
        trace.windowStates = new float[rows][];
        for (int t = 0; t < rows; t++) {
            int slot = Ring.wrap(start + t, ring);
            trace.windowStates[t] = Arrays.copyOfRange(states, slot * stateStride, slot * stateStride + h);
        }
        for (int c = 0; c < n; c++) {
            float[] att = new float[rows];
            for (int t = 0; t < rows; t++) {
                int slot = Ring.wrap(start + t, ring);
                att[t] = attention[c * maxHistory + slot];
            }
            trace.attention[c] = att;
            trace.finalInterest[c] = Arrays.copyOfRange(interests, c * stateStride, c * stateStride + h);
            trace.logit[c] = logits[c];
        }
    }
}

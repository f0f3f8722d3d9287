package io.dienflink.model;

import java.util.Arrays;

/**
 * Computes DIEN for one thread: owns the scratch buffers so that appending a click and scoring a
 * request allocate nothing once warmed up (buffers grow with the largest request seen). Use one
 * instance per thread or Flink subtask; the {@link DienModel} it wraps is shared.
 *
 * <p>Work is placed where it is cheapest: per click, one extractor step; per request, the window's
 * projections through the evolver's input kernel and the attention's state-only term, the user and
 * history-sum part of the head; per candidate, only what depends on the candidate. The AUGRU runs
 * all candidates of a request as one batch, so each step is a matrix product rather than one
 * vector product per candidate.
 */
public final class DienScorer {
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

    DienScorer(DienModel model) {
        this.model = model;
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
            int prev = (s.next == 0 ? s.capacity : s.next) - 1;
            if (prev != s.next) {
                System.arraycopy(s.states, prev * stateStride, s.states, dst, stateStride);
            }
        }
        extractor.step(k, clickGates, 0, 0, s.states, dst, stateStride, 1, null, 0, form, extractorScratch);
        s.items[s.next] = item;
        s.categories[s.next] = category;
        s.next = s.next + 1 == s.capacity ? 0 : s.next + 1;
        if (s.count < s.capacity) {
            s.count++;
        }
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
        s.next = keep == maxHistory ? 0 : keep;
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
            int gs = evolver.gateStride;
            evolver.inputProjection(k, states, 0, stateStride, rows, evolverProjection, 0);
            if (din != null) {
                din.projectStates(k, states, rows, attentionProjection);
            }
            // Per candidate: attention logits over the stored rows, then softmax.
            for (int c = 0; c < n; c++) {
                int a = c * maxHistory;
                if (din != null) {
                    din.logits(k, candidateItems, c * itemStride, states, rows, attentionProjection, attention, a, dinWorkspace);
                } else {
                    bilinear.logits(k, candidateItems, c * itemStride, states, rows, attention, a, bilinearScratch);
                }
                float max = Float.NEGATIVE_INFINITY;
                for (int r = 0; r < rows; r++) {
                    max = Math.max(max, attention[a + r]);
                }
                k.expShifted(attention, a, rows, max);
                // Summed oldest first, like the reference, whatever slot the ring starts at.
                float sum = 0f;
                for (int t = 0; t < rows; t++) {
                    sum += attention[a + (start + t >= ring ? start + t - ring : start + t)];
                }
                k.scale(attention, a, 1f / sum, attention, a, rows);
            }
            // AUGRU over the window in time order, all candidates as one batch.
            for (int t = 0; t < rows; t++) {
                int slot = start + t >= ring ? start + t - ring : start + t;
                for (int c = 0; c < n; c++) {
                    attentionColumn[c] = attention[c * maxHistory + slot];
                }
                evolver.step(k, evolverProjection, slot * gs, 0, interests, 0, stateStride, n, attentionColumn, 0,
                        form, evolverScratch);
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

    private void fillTrace(ScoreTrace trace, float[] states, int start, int ring, int rows, int n) {
        int h = model.config().hiddenDim();
        trace.windowStates = new float[rows][];
        for (int t = 0; t < rows; t++) {
            int slot = start + t >= ring ? start + t - ring : start + t;
            trace.windowStates[t] = Arrays.copyOfRange(states, slot * stateStride, slot * stateStride + h);
        }
        for (int c = 0; c < n; c++) {
            float[] att = new float[rows];
            for (int t = 0; t < rows; t++) {
                int slot = start + t >= ring ? start + t - ring : start + t;
                att[t] = attention[c * maxHistory + slot];
            }
            trace.attention[c] = att;
            trace.finalInterest[c] = Arrays.copyOfRange(interests, c * stateStride, c * stateStride + h);
            trace.logit[c] = logits[c];
        }
    }
}

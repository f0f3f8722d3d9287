package io.dienflink.model;

import java.util.Arrays;

/**
 * Each phase of {@link DienScorer#score} run alone on one full window, so that a benchmark outside
 * the model core ({@code bench.ScorerPhasesBenchmark}, {@code bench-model}) can time where a
 * request's time goes. The phases are package-private layers of this package; this class is their
 * only way out, and it computes nothing the scorer does not. Each method overwrites and returns one
 * of its own buffers. Not thread-safe.
 */
public final class ScorerPhases {
    private final DienModel model;
    private final DienScorer scorer;
    private final int maxHistory;
    private final int batch;
    private final long[] items;
    private final long[] categories;
    private final InterestState state;
    private final float[] evolverProjection;
    private final float[] attentionProjection;
    private final float[] candidate;
    private final float[] logits;
    private final float[] interest;
    private final float[] attention = new float[1];
    private final DinAttention.Workspace workspace;
    private final GruCell.Scratch scratch = new GruCell.Scratch();
    private final float[] batchItems;
    private final float[] batchQueries;
    private final float[] batchQueryParts;
    private final float[] batchAttention;
    private final float[] laneStates;
    private final float[] laneMul;
    private final float[] laneAdd;
    private final GruCell.LaneScratch laneScratch = new GruCell.LaneScratch();
    private final float[] batchCtr;

    /**
     * Appends all of {@code items} and {@code categories} (at least {@code 2·maxHistory} clicks, so
     * the window is full and the second half stands for a request's history) to a new user, then
     * prepares every phase's inputs from that window.
     *
     * @param batch candidates of the {@code *Batch} phases (at most the number of clicks); candidate
     *     c is click c
     */
    public ScorerPhases(DienModel model, long[] items, long[] categories, int batch) {
        this.model = model;
        this.maxHistory = model.config().maxHistory();
        if (items.length < 2 * maxHistory || categories.length != items.length || batch < 1 || batch > items.length) {
            throw new IllegalArgumentException("need 2·" + maxHistory + " clicks and 1.." + items.length
                    + " candidates, got " + items.length + " items, " + categories.length + " categories, batch " + batch);
        }
        this.batch = batch;
        this.items = items;
        this.categories = categories;
        this.scorer = model.newScorer();
        this.state = scorer.newState();
        for (int i = 0; i < items.length; i++) {
            state.append(scorer, items[i], categories[i]);
        }
        Kernels k = model.kernels();
        int itemStride = Kernels.pad(model.config().itemDim());
        evolverProjection = new float[maxHistory * model.evolver.gateStride];
        attentionProjection = new float[maxHistory * model.din.projectionWidth()];
        candidate = new float[itemStride];
        model.itemVector(items[3], categories[3], candidate, 0);
        logits = new float[maxHistory];
        interest = new float[Kernels.pad(model.config().hiddenDim())];
        workspace = new DinAttention.Workspace(model.din);
        workspace.ensureRows(model.din, maxHistory);
        model.evolver.inputProjection(k, state.states, 0, interest.length, maxHistory, evolverProjection, 0);
        model.din.projectStates(k, state.states, maxHistory, attentionProjection);
        batchItems = new float[batch * itemStride];
        for (int c = 0; c < batch; c++) {
            model.itemVector(items[c], categories[c], batchItems, c * itemStride);
        }
        batchQueries = new float[batch * model.din.queryStride()];
        batchQueryParts = new float[batch * model.din.projectionWidth()];
        batchAttention = new float[batch * maxHistory];
        int lanes = (batch + k.lanes() - 1) / k.lanes() * k.lanes();
        laneStates = new float[model.config().hiddenDim() * lanes];
        laneMul = new float[lanes];
        laneAdd = new float[lanes];
        Arrays.fill(laneMul, 0.99f);
        batchCtr = new float[batch];
    }

    /** Per request of {@code batch} candidates: their attention logits (queries as one product, then each candidate's MLP). */
    public float[] attentionBatch() {
        Kernels k = model.kernels();
        DinAttention din = model.din;
        int itemStride = Kernels.pad(model.config().itemDim());
        din.queries(k, batchItems, 0, itemStride, batch, batchQueries, batchQueryParts);
        for (int c = 0; c < batch; c++) {
            din.logitsOfQuery(k, batchQueries, c * din.queryStride(), batchQueryParts, c * din.projectionWidth(),
                    state.states, maxHistory, attentionProjection, batchAttention, c * maxHistory, workspace);
        }
        return batchAttention;
    }

    /** Per request of {@code batch} candidates: T AUGRU steps with the candidates as lanes. */
    public float[] augruBatch() {
        Arrays.fill(laneStates, 0f);
        int gs = model.evolver.gateStride;
        int lanes = laneMul.length;
        for (int t = 0; t < maxHistory; t++) {
            model.evolver.stepLanes(model.kernels(), evolverProjection, t * gs, laneStates, lanes, laneMul, laneAdd, 0,
                    laneScratch);
        }
        return laneStates;
    }

    /** The whole request of {@code batch} candidates, for reference. */
    public float[] wholeRequestBatch() {
        state.score(scorer, 12345, items, categories, batch, Semantics.STREAMING, batchCtr);
        return batchCtr;
    }

    /** Per request: the window through the evolver's input kernel and the attention's state-only term. */
    public float[] projections() {
        model.evolver.inputProjection(model.kernels(), state.states, 0, interest.length, maxHistory, evolverProjection, 0);
        model.din.projectStates(model.kernels(), state.states, maxHistory, attentionProjection);
        return attentionProjection;
    }

    /** Per candidate: attention logits over the window (the MLP, batched over the T states). */
    public float[] attentionLogits() {
        model.din.logits(model.kernels(), candidate, 0, state.states, maxHistory, attentionProjection, logits, 0, workspace);
        return logits;
    }

    /** Per candidate: T AUGRU steps, each waiting for the previous one. */
    public float[] augru() {
        Arrays.fill(interest, 0f);
        int gs = model.evolver.gateStride;
        for (int t = 0; t < maxHistory; t++) {
            attention[0] = 0.01f;
            model.evolver.step(model.kernels(), evolverProjection, t * gs, 0, interest, 0, interest.length, 1, attention, 0,
                    AugruForm.CODE, scratch);
        }
        return interest;
    }

    /** Per request: the window's item vectors summed (T vocabulary lookups of item and category). */
    public float[] historySum() {
        Arrays.fill(candidate, 0f);
        for (int t = 0; t < maxHistory; t++) {
            model.addItemVector(items[maxHistory + t], categories[maxHistory + t], candidate, 0);
        }
        return candidate;
    }

    /** The whole one-candidate request, for reference. */
    public float[] wholeRequest() {
        state.score(scorer, 12345, items, categories, 1, Semantics.STREAMING, logits);
        return logits;
    }
}

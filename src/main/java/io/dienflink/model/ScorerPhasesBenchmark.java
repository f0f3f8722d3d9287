package io.dienflink.model;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Where the time of a request goes: each phase of {@link DienScorer#score} run alone on the same
 * full window (T = 100, official dimensions), for a one-candidate request and (the {@code *Batch}
 * methods) for the batched path at {@link #BATCH} candidates. It lives in this package because the
 * phases are package-private; it has no other role in the model.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class ScorerPhasesBenchmark {
    /** Candidates of the {@code *Batch} phases. */
    public static final int BATCH = 100;

    @Param("100")
    public int maxHistory;

    private DienModel model;
    private InterestState state;
    private float[] evolverProjection;
    private float[] attentionProjection;
    private float[] candidate;
    private float[] logits;
    private float[] interest;
    private float[] attention;
    private DinAttention.Workspace workspace;
    private final GruCell.Scratch scratch = new GruCell.Scratch();
    private DienScorer scorer;
    private long[][] clicks;
    private float[] batchItems;
    private float[] batchQueries;
    private float[] batchQueryParts;
    private float[] batchAttention;
    private float[] laneStates;
    private float[] laneMul;
    private float[] laneAdd;
    private final GruCell.LaneScratch laneScratch = new GruCell.LaneScratch();
    private float[] batchCtr;

    @Setup(Level.Trial)
    public void setUp() {
        model = DienModel.from(UntrainedBundles.random(
                UntrainedBundles.officialArchitecture("untrained-phases", UntrainedBundles.OFFICIAL_VOCAB, maxHistory), 2019));
        scorer = model.newScorer();
        SplittableRandom r = new SplittableRandom(1);
        clicks = new long[2][2 * maxHistory];
        for (int i = 0; i < clicks[0].length; i++) {
            clicks[0][i] = UntrainedBundles.vocabularyId(r.nextInt(UntrainedBundles.OFFICIAL_VOCAB.items()));
            clicks[1][i] = UntrainedBundles.vocabularyId(r.nextInt(UntrainedBundles.OFFICIAL_VOCAB.categories()));
        }
        state = scorer.newState();
        for (int i = 0; i < clicks[0].length; i++) {
            state.append(scorer, clicks[0][i], clicks[1][i]);
        }
        evolverProjection = new float[maxHistory * model.evolver.gateStride];
        attentionProjection = new float[maxHistory * model.din.projectionWidth()];
        candidate = new float[Kernels.pad(model.config().itemDim())];
        model.itemVector(clicks[0][3], clicks[1][3], candidate, 0);
        logits = new float[maxHistory];
        interest = new float[Kernels.pad(model.config().hiddenDim())];
        attention = new float[1];
        workspace = new DinAttention.Workspace(model.din);
        workspace.ensureRows(model.din, maxHistory);
        model.evolver.inputProjection(model.kernels(), state.states, 0, interest.length, maxHistory, evolverProjection, 0);
        model.din.projectStates(model.kernels(), state.states, maxHistory, attentionProjection);
        int itemStride = Kernels.pad(model.config().itemDim());
        batchItems = new float[BATCH * itemStride];
        for (int c = 0; c < BATCH; c++) {
            model.itemVector(clicks[0][c], clicks[1][c], batchItems, c * itemStride);
        }
        batchQueries = new float[BATCH * model.din.queryStride()];
        batchQueryParts = new float[BATCH * model.din.projectionWidth()];
        batchAttention = new float[BATCH * maxHistory];
        int lanes = (BATCH + model.kernels().lanes() - 1) / model.kernels().lanes() * model.kernels().lanes();
        laneStates = new float[model.config().hiddenDim() * lanes];
        laneMul = new float[lanes];
        laneAdd = new float[lanes];
        Arrays.fill(laneMul, 0.99f);
        batchCtr = new float[BATCH];
    }

    /** Per request of {@link #BATCH} candidates: their attention logits (queries as one product, then each candidate's MLP). */
    @Benchmark
    public float[] attentionBatch() {
        Kernels k = model.kernels();
        DinAttention din = model.din;
        int itemStride = Kernels.pad(model.config().itemDim());
        din.queries(k, batchItems, 0, itemStride, BATCH, batchQueries, batchQueryParts);
        for (int c = 0; c < BATCH; c++) {
            din.logitsOfQuery(k, batchQueries, c * din.queryStride(), batchQueryParts, c * din.projectionWidth(),
                    state.states, maxHistory, attentionProjection, batchAttention, c * maxHistory, workspace);
        }
        return batchAttention;
    }

    /** Per request of {@link #BATCH} candidates: T AUGRU steps with the candidates as lanes. */
    @Benchmark
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

    /** The whole request of {@link #BATCH} candidates, for reference. */
    @Benchmark
    public float[] wholeRequestBatch() {
        state.score(scorer, 12345, clicks[0], clicks[1], BATCH, Semantics.STREAMING, batchCtr);
        return batchCtr;
    }

    /** Per request: the window through the evolver's input kernel and the attention's state-only term. */
    @Benchmark
    public float[] projections() {
        model.evolver.inputProjection(model.kernels(), state.states, 0, interest.length, maxHistory, evolverProjection, 0);
        model.din.projectStates(model.kernels(), state.states, maxHistory, attentionProjection);
        return attentionProjection;
    }

    /** Per candidate: attention logits over the window (the MLP, batched over the T states). */
    @Benchmark
    public float[] attentionLogits() {
        model.din.logits(model.kernels(), candidate, 0, state.states, maxHistory, attentionProjection, logits, 0, workspace);
        return logits;
    }

    /** Per candidate: T AUGRU steps, each waiting for the previous one. */
    @Benchmark
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
    @Benchmark
    public float[] historySum() {
        Arrays.fill(candidate, 0f);
        for (int t = 0; t < maxHistory; t++) {
            model.addItemVector(clicks[0][maxHistory + t], clicks[1][maxHistory + t], candidate, 0);
        }
        return candidate;
    }

    /** The whole one-candidate request, for reference. */
    @Benchmark
    public float[] wholeRequest() {
        float[] ctr = logits;
        state.score(scorer, 12345, clicks[0], clicks[1], 1, Semantics.STREAMING, ctr);
        return ctr;
    }
}

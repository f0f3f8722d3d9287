package io.dienflink.bench;

import io.dienflink.model.DienModel;
import io.dienflink.model.ScorerPhases;
import io.dienflink.reference.UntrainedBundles;
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
 * Where the time of a request goes: each phase of {@code DienScorer.score} run alone
 * ({@link ScorerPhases}) on the same full window (T = 100, official dimensions), for a one-candidate
 * request and (the {@code *Batch} methods) for the batched path at {@link #BATCH} candidates.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class ScorerPhasesBenchmark {
    /** Candidates of the {@code *Batch} phases. */
    public static final int BATCH = 100;

    @Param("100")
    public int maxHistory;

    private ScorerPhases phases;

    @Setup(Level.Trial)
    public void setUp() {
        DienModel model = DienModel.from(UntrainedBundles.random(
                UntrainedBundles.officialArchitecture("untrained-phases", UntrainedBundles.OFFICIAL_VOCAB, maxHistory), 2019));
        SplittableRandom r = new SplittableRandom(1);
        long[] items = new long[2 * maxHistory];
        long[] categories = new long[2 * maxHistory];
        for (int i = 0; i < items.length; i++) {
            items[i] = UntrainedBundles.vocabularyId(r.nextInt(UntrainedBundles.OFFICIAL_VOCAB.items()));
            categories[i] = UntrainedBundles.vocabularyId(r.nextInt(UntrainedBundles.OFFICIAL_VOCAB.categories()));
        }
        phases = new ScorerPhases(model, items, categories, BATCH);
    }

    /** Per request of {@link #BATCH} candidates: their attention logits (queries as one product, then each candidate's MLP). */
    @Benchmark
    public float[] attentionBatch() {
        return phases.attentionBatch();
    }

    /** Per request of {@link #BATCH} candidates: T AUGRU steps with the candidates as lanes. */
    @Benchmark
    public float[] augruBatch() {
        return phases.augruBatch();
    }

    /** The whole request of {@link #BATCH} candidates, for reference. */
    @Benchmark
    public float[] wholeRequestBatch() {
        return phases.wholeRequestBatch();
    }

    /** Per request: the window through the evolver's input kernel and the attention's state-only term. */
    @Benchmark
    public float[] projections() {
        return phases.projections();
    }

    /** Per candidate: attention logits over the window (the MLP, batched over the T states). */
    @Benchmark
    public float[] attentionLogits() {
        return phases.attentionLogits();
    }

    /** Per candidate: T AUGRU steps, each waiting for the previous one. */
    @Benchmark
    public float[] augru() {
        return phases.augru();
    }

    /** Per request: the window's item vectors summed (T vocabulary lookups of item and category). */
    @Benchmark
    public float[] historySum() {
        return phases.historySum();
    }

    /** The whole one-candidate request, for reference. */
    @Benchmark
    public float[] wholeRequest() {
        return phases.wholeRequest();
    }
}

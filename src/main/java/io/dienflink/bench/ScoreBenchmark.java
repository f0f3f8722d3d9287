package io.dienflink.bench;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Kernels;
import io.dienflink.model.Semantics;
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
 * Scoring one request of 1, 10 or 100 candidates against a full window of T clicks: the streaming
 * path the job runs (fused Vector API kernels, candidates batched), the same with the earlier
 * per-candidate path ({@link DienScorer.Batching#PER_CANDIDATE}, the baseline of the batching), the
 * windowed path a stateless server runs (recomputing the window's extractor states per request),
 * the streaming path on scalar kernels, and the streaming path on a state just decoded from bytes,
 * as a one-value-per-user state layout ({@link EncodedUser}) would read it from RocksDB.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class ScoreBenchmark {
    @Param("100")
    public int maxHistory;

    @Param({"1", "10", "100"})
    public int candidates;

    private DienScorer vector;
    private DienScorer perCandidate;
    private DienScorer scalar;
    private InterestState state;
    private InterestState scalarState;
    private byte[] encoded;
    private long[][] requests;
    private float[] ctr;
    private long[] items;
    private long[] categories;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        var bundle = BenchModels.official(maxHistory);
        DienModel model = DienModel.from(bundle, Kernels.best());
        vector = model.newScorer();
        perCandidate = model.newScorer(DienScorer.Batching.PER_CANDIDATE);
        scalar = DienModel.from(bundle, Kernels.scalar()).newScorer();
        long[][] clicks = BenchModels.clicks(2 * maxHistory, 1);
        state = vector.newState();
        scalarState = scalar.newState();
        for (int i = 0; i < clicks[0].length; i++) {
            state.append(vector, clicks[0][i], clicks[1][i]);
            scalarState.append(scalar, clicks[0][i], clicks[1][i]);
        }
        encoded = EncodedUser.encode(state, bundle.config().hiddenDim());
        requests = BenchModels.clicks(1 << 14, 2);
        ctr = new float[candidates];
        items = new long[candidates];
        categories = new long[candidates];
    }

    /** The next request's candidates start at this offset of {@link #requests}, so lookups vary. */
    private int nextOffset() {
        next = (next + candidates) & ((1 << 14) - 1 - 127);
        return next;
    }

    private float[] score(InterestState s, DienScorer scorer, Semantics semantics) {
        int off = nextOffset();
        System.arraycopy(requests[0], off, items, 0, candidates);
        System.arraycopy(requests[1], off, categories, 0, candidates);
        s.score(scorer, 12345, items, categories, candidates, semantics, ctr);
        return ctr;
    }

    @Benchmark
    public float[] streamingVector() {
        return score(state, vector, Semantics.STREAMING);
    }

    /** The baseline of the batching: attention one candidate at a time, AUGRU with candidates as rows. */
    @Benchmark
    public float[] streamingPerCandidate() {
        return score(state, perCandidate, Semantics.STREAMING);
    }

    @Benchmark
    public float[] windowedVector() {
        return score(state, vector, Semantics.WINDOWED);
    }

    @Benchmark
    public float[] streamingScalar() {
        return score(scalarState, scalar, Semantics.STREAMING);
    }

    @Benchmark
    public float[] decodeThenStreamingVector() {
        return score(EncodedUser.decode(encoded, vector), vector, Semantics.STREAMING);
    }
}

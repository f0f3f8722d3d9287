package io.dienflink.bench;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Kernels;
import io.dienflink.reference.Nd4jReferenceModel;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Appending one click to a user whose window is full (T clicks): one extractor cell step with the
 * fused kernels, the same with the scalar kernels, the same step op by op on ND4J, and the
 * round trip through the binary encoding ({@link EncodedUser}) that a one-value-per-user state
 * layout pays per click.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class ClickAppendBenchmark {
    @Param("100")
    public int maxHistory;

    private DienScorer vector;
    private DienScorer scalar;
    private InterestState vectorState;
    private InterestState scalarState;
    private byte[] encoded;
    private int hidden;
    private Nd4jReferenceModel nd4j;
    private float[] nd4jState;
    private long[][] clicks;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        Nd4j.getEnvironment().setMaxThreads(1);
        var bundle = BenchModels.official(maxHistory);
        vector = DienModel.from(bundle, Kernels.best()).newScorer();
        scalar = DienModel.from(bundle, Kernels.scalar()).newScorer();
        clicks = BenchModels.clicks(4096, 1);
        vectorState = vector.newState();
        scalarState = scalar.newState();
        for (int i = 0; i < 2 * maxHistory; i++) {
            vectorState.append(vector, clicks[0][i], clicks[1][i]);
            scalarState.append(scalar, clicks[0][i], clicks[1][i]);
        }
        hidden = bundle.config().hiddenDim();
        encoded = EncodedUser.encode(vectorState, hidden);
        nd4j = new Nd4jReferenceModel(bundle);
        nd4jState = vectorState.stateAt(maxHistory - 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        nd4j.close();
    }

    private int nextClick() {
        next = (next + 1) & 4095;
        return next;
    }

    @Benchmark
    public InterestState appendVector() {
        int i = nextClick();
        vectorState.append(vector, clicks[0][i], clicks[1][i]);
        return vectorState;
    }

    @Benchmark
    public InterestState appendScalar() {
        int i = nextClick();
        scalarState.append(scalar, clicks[0][i], clicks[1][i]);
        return scalarState;
    }

    @Benchmark
    public float[] appendNd4jOpByOp() {
        int i = nextClick();
        nd4j.extractorStep(clicks[0][i], clicks[1][i], nd4jState);
        return nd4jState;
    }

    /** What a state kept as one serialized value per user costs per click: decode, append, encode. */
    @Benchmark
    public byte[] decodeAppendEncode() {
        int i = nextClick();
        InterestState s = EncodedUser.decode(encoded, vector);
        s.append(vector, clicks[0][i], clicks[1][i]);
        return EncodedUser.encode(s, hidden);
    }
}

package io.dienflink.bench;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
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
 * The model-core cost of an upgrade for one user with a full window (T = 100, official
 * dimensions): rebuilding the window's states under the new model, and a user's first request
 * after the upgrade (rebuild, then score 10 candidates) against a request that needs no rebuild.
 * Each operation starts from the state decoded from bytes ({@link EncodedUser}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class UpgradeBenchmark {
    @Param("100")
    public int maxHistory;

    private DienScorer newModel;
    private byte[] builtByOld;
    private byte[] builtByNew;
    private long[][] candidates;
    private final float[] ctr = new float[10];

    @Setup(Level.Trial)
    public void setUp() {
        DienScorer old = DienModel.from(BenchModels.official(maxHistory)).newScorer();
        newModel = DienModel.from(BenchModels.officialUpgrade(maxHistory)).newScorer();
        long[][] clicks = BenchModels.clicks(2 * maxHistory, 1);
        InterestState a = old.newState();
        InterestState b = newModel.newState();
        for (int i = 0; i < clicks[0].length; i++) {
            a.append(old, clicks[0][i], clicks[1][i]);
            b.append(newModel, clicks[0][i], clicks[1][i]);
        }
        builtByOld = EncodedUser.encode(a, old.model().config().hiddenDim());
        builtByNew = EncodedUser.encode(b, newModel.model().config().hiddenDim());
        candidates = BenchModels.clicks(10, 3);
    }

    @Benchmark
    public InterestState rebuildWindow() {
        InterestState s = EncodedUser.decode(builtByOld, newModel);
        s.rebuild(newModel);
        return s;
    }

    @Benchmark
    public float[] firstRequestAfterUpgrade() {
        InterestState s = EncodedUser.decode(builtByOld, newModel);
        s.rebuild(newModel);
        s.score(newModel, 12345, candidates[0], candidates[1], 10, Semantics.STREAMING, ctr);
        return ctr;
    }

    @Benchmark
    public float[] requestWithoutUpgrade() {
        InterestState s = EncodedUser.decode(builtByNew, newModel);
        s.score(newModel, 12345, candidates[0], candidates[1], 10, Semantics.STREAMING, ctr);
        return ctr;
    }
}

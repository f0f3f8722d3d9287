package io.dienflink.bench;

import io.dienflink.model.Semantics;
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
 * The baseline: a stateless server written op by op on ND4J, replaying the window's T clicks per
 * request (windowed semantics) and scoring candidates one at a time. 100 candidates are left out:
 * a single request takes seconds.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class Nd4jScoreBenchmark {
    @Param("100")
    public int maxHistory;

    @Param({"1", "10"})
    public int candidates;

    private Nd4jReferenceModel reference;
    private long[][] history;
    private long[][] requests;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        Nd4j.getEnvironment().setMaxThreads(1);
        reference = new Nd4jReferenceModel(BenchModels.official(maxHistory));
        long[][] clicks = BenchModels.clicks(2 * maxHistory, 1);
        history = new long[maxHistory][];
        for (int i = 0; i < maxHistory; i++) {
            history[i] = new long[] {clicks[0][maxHistory + i], clicks[1][maxHistory + i]};
        }
        long[][] r = BenchModels.clicks(1024, 2);
        requests = new long[1024][];
        for (int i = 0; i < 1024; i++) {
            requests[i] = new long[] {r[0][i], r[1][i]};
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        reference.close();
    }

    @Benchmark
    public float[] windowedNd4jOpByOp() {
        next = (next + candidates) & (1023 - 127);
        long[][] cands = java.util.Arrays.copyOfRange(requests, next, next + candidates);
        return reference.score(12345, history, cands, Semantics.WINDOWED).ctr();
    }
}

package io.dienflink.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The fp32 throughput this core actually reaches through the Vector API: twelve independent FMA
 * chains, enough to hide the FMA latency on two pipes. The report quotes every kernel against it
 * (the nominal clock in {@code /proc/cpuinfo} understates a turbo-boosted core).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class PeakFlopsBenchmark {
    private static final int CHAINS = 12;
    private static final int STEPS = 1024;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Floating-point operations per invocation. */
    public static long flopsPerOp() {
        return 2L * CHAINS * STEPS * S.length();
    }

    public float m = 0.999f;
    public float c = 0.001f;

    @Benchmark
    public float fmaThroughput() {
        FloatVector mv = FloatVector.broadcast(S, m);
        FloatVector cv = FloatVector.broadcast(S, c);
        FloatVector a0 = cv, a1 = cv, a2 = cv, a3 = cv, a4 = cv, a5 = cv, a6 = cv, a7 = cv, a8 = cv, a9 = cv, a10 = cv, a11 = cv;
        for (int i = 0; i < STEPS; i++) {
            a0 = a0.fma(mv, cv);
            a1 = a1.fma(mv, cv);
            a2 = a2.fma(mv, cv);
            a3 = a3.fma(mv, cv);
            a4 = a4.fma(mv, cv);
            a5 = a5.fma(mv, cv);
            a6 = a6.fma(mv, cv);
            a7 = a7.fma(mv, cv);
            a8 = a8.fma(mv, cv);
            a9 = a9.fma(mv, cv);
            a10 = a10.fma(mv, cv);
            a11 = a11.fma(mv, cv);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}

package io.dienflink.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A network's parameters in the order its layers create them (the bundle's order), each initialised
 * from one seeded random stream: the same seed and the same layers give the same network.
 */
final class Parameters {
    final List<Network.Param> all = new ArrayList<>();
    private final SplittableRandom rnd;

    Parameters(long seed) {
        this.rnd = new SplittableRandom(seed);
    }

    private Network.Param add(String name, int[] shape, boolean sparse) {
        Network.Param p = new Network.Param(name, shape, sparse, all.size());
        all.add(p);
        return p;
    }

    /** A {@code [in × out]} kernel, Glorot-uniform. */
    Network.Param glorot(String name, int in, int out) {
        Network.Param p = add(name, new int[] {in, out}, false);
        double limit = Math.sqrt(6.0 / (in + out));
        for (int i = 0; i < p.value.length; i++) {
            p.value[i] = (float) ((rnd.nextDouble() * 2 - 1) * limit);
        }
        return p;
    }

    Network.Param zeros(String name, int n) {
        return add(name, new int[] {n}, false);
    }

    Network.Param constant(String name, int n, float v) {
        Network.Param p = add(name, new int[] {n}, false);
        Arrays.fill(p.value, v);
        return p;
    }

    /** A {@code [rows × e]} embedding table, updated sparsely. */
    Network.Param embedding(String name, int rows, int e) {
        Network.Param p = add(name, new int[] {rows, e}, true);
        // row 0 (ids outside the vocabulary) stays zero: it is never trained
        for (int i = e; i < p.value.length; i++) {
            p.value[i] = (float) ((rnd.nextDouble() * 2 - 1) * 0.05);
        }
        return p;
    }
}

package io.dienflink.bench;

import io.dienflink.model.ModelBundle;
import io.dienflink.reference.UntrainedBundles;
import java.util.SplittableRandom;

/**
 * The model the benchmarks measure: the official architecture (E=18, H=36, attention [80, 40],
 * head [200, 80] dice) with the official Amazon-Books vocabulary sizes, so that embedding lookups
 * touch tables of production size (about 70 MB).
 */
public final class BenchModels {

    private static ModelBundle cached;
    private static int cachedT;

    private BenchModels() {}

    public static synchronized ModelBundle official(int maxHistory) {
        if (cached == null || cachedT != maxHistory) {
            cached = UntrainedBundles.random(
                    UntrainedBundles.officialArchitecture("untrained-bench-T" + maxHistory, UntrainedBundles.OFFICIAL_VOCAB, maxHistory), 2019);
            cachedT = maxHistory;
        }
        return cached;
    }

    /** A second untrained model of the same architecture and vocabulary (other weights): the model an upgrade moves to. */
    public static ModelBundle officialUpgrade(int maxHistory) {
        return UntrainedBundles.random(
                UntrainedBundles.officialArchitecture("untrained-bench-upgrade-T" + maxHistory, UntrainedBundles.OFFICIAL_VOCAB, maxHistory), 2020);
    }

    /** {@code n} random clicks as {@code [2][n]}: item ids and category ids, 5% outside the vocabulary. */
    public static long[][] clicks(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] c = new long[2][n];
        for (int i = 0; i < n; i++) {
            c[0][i] = r.nextInt(20) == 0 ? 7 : UntrainedBundles.vocabularyId(r.nextInt(UntrainedBundles.OFFICIAL_VOCAB.items()));
            c[1][i] = UntrainedBundles.vocabularyId(r.nextInt(UntrainedBundles.OFFICIAL_VOCAB.categories()));
        }
        return c;
    }
}

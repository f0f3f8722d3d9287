package io.dienflink.reference;

import io.dienflink.model.Activation;
import io.dienflink.model.AttentionKind;
import io.dienflink.model.AugruForm;
import io.dienflink.model.BundleLayout;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.ModelConfig;
import io.dienflink.model.NpyArray;
import io.dienflink.model.ResetMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Bundles with random weights, for benchmarks, tests at production dimensions, and the demo before
 * a trained bundle exists. Their {@code modelVersion} says they are untrained; their scores are
 * deterministic in the seed but meaningless.
 */
public final class UntrainedBundles {
    /** Vocabulary sizes of the official DIEN data (Amazon Books): users, items, categories. */
    public static final ModelConfig.VocabSizes OFFICIAL_VOCAB = new ModelConfig.VocabSizes(603_668, 367_982, 1_600);

    private UntrainedBundles() {}

    /**
     * The official DIEN code's architecture (E=18, H=36, attention [80, 40] sigmoid with query
     * projection, head [200, 80] dice with batch norm, TensorFlow-1 cells) with the given vocabulary
     * sizes and history length.
     */
    public static ModelConfig officialArchitecture(String version, ModelConfig.VocabSizes vocab, int maxHistory) {
        return new ModelConfig(version, 18, 36, maxHistory, vocab, ResetMode.BEFORE,
                new ModelConfig.AttentionConfig(AttentionKind.DIN_MLP, true, List.of(80, 40), Activation.SIGMOID),
                new ModelConfig.EvolverConfig(AugruForm.CODE, ResetMode.BEFORE),
                new ModelConfig.HeadConfig(true, 1e-3f, List.of(200, 80), Activation.DICE));
    }

    /**
     * Random weights for {@code config}: Glorot-uniform kernels, small biases and embeddings,
     * population statistics of a standardised input; vocabulary entry i is raw id
     * {@link #vocabularyId(int)}, so ids outside the vocabulary are easy to make.
     */
    public static ModelBundle random(ModelConfig config, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, NpyArray> arrays = new HashMap<>();
        for (Map.Entry<String, int[]> e : BundleLayout.expected(config).entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            if (BundleLayout.isVocabulary(name)) {
                long[] ids = new long[shape[0]];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = vocabularyId(i);
                }
                arrays.put(name, NpyArray.ofLongs(shape, ids));
                continue;
            }
            int size = 1;
            for (int d : shape) {
                size *= d;
            }
            float[] w = new float[size];
            if (name.endsWith(".var") || name.endsWith(".gamma")) {
                java.util.Arrays.fill(w, 1f);
            } else if (name.endsWith(".mean") || name.endsWith(".beta")) {
                fill(w, rnd, 0.05);
            } else if (name.endsWith(".alpha") || name.endsWith(".prelu")) {
                java.util.Arrays.fill(w, 0.25f);
            } else if (name.startsWith("embedding.")) {
                fill(w, rnd, 0.5);
            } else if (shape.length == 2) {
                fill(w, rnd, Math.sqrt(6.0 / (shape[0] + shape[1])));
            } else {
                fill(w, rnd, 0.1);
            }
            arrays.put(name, NpyArray.ofFloats(shape, w));
        }
        return ModelBundle.of(config, arrays);
    }

    /** The raw id of vocabulary entry {@code i} in bundles from {@link #random}: {@code 1000·(i + 1)}. */
    public static long vocabularyId(int i) {
        return 1000L * (i + 1);
    }

    private static void fill(float[] w, SplittableRandom rnd, double limit) {
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((rnd.nextDouble() * 2 - 1) * limit);
        }
    }
}

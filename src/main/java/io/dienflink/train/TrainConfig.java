package io.dienflink.train;

import java.util.List;

/**
 * Hyper-parameters of a training run. The architecture fields become the bundle's manifest: TF1
 * cells (reset before), the official code's AUGRU form, din-mlp attention with query projection and
 * sigmoid layers, PReLU head without batch normalisation (population statistics for dice and batch
 * norm are a training-time approximation the streaming path would not reproduce exactly).
 *
 * @param auxWeight α in L = L_target + α·L_aux (the paper's auxiliary loss on sampled negatives)
 * @param threads worker threads per minibatch
 */
public record TrainConfig(
        ModelKind kind,
        int embeddingDim,
        int hiddenDim,
        int maxHistory,
        List<Integer> attentionLayers,
        List<Integer> headLayers,
        double learningRate,
        int batchSize,
        int epochs,
        double auxWeight,
        long seed,
        int threads) {

    public TrainConfig {
        attentionLayers = List.copyOf(attentionLayers);
        headLayers = List.copyOf(headLayers);
        // zero epochs or batches would fail deep in training (an empty curve, a batch loop that never advances)
        positive("embeddingDim", embeddingDim);
        positive("hiddenDim", hiddenDim);
        positive("maxHistory", maxHistory);
        positive("batchSize", batchSize);
        positive("epochs", epochs);
        positive("threads", threads);
        if (attentionLayers.isEmpty() || headLayers.isEmpty()
                || attentionLayers.stream().anyMatch(w -> w < 1) || headLayers.stream().anyMatch(w -> w < 1)) {
            throw new IllegalArgumentException("attention and head layers must be non-empty with positive widths: "
                    + attentionLayers + ", " + headLayers);
        }
        if (!(learningRate >= 0) || Double.isInfinite(learningRate) || !(auxWeight >= 0) || Double.isInfinite(auxWeight)) {
            throw new IllegalArgumentException("learningRate and auxWeight must be finite and ≥ 0: " + learningRate + ", " + auxWeight);
        }
        if (kind == ModelKind.DIEN && 2 * embeddingDim != hiddenDim) {
            // the auxiliary loss scores h_t against the next item vector with an inner product
            throw new IllegalArgumentException("DIEN's auxiliary loss needs hiddenDim = 2·embeddingDim");
        }
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + value);
        }
    }

    /** The official dimensions (E = 18, H = 36, attention [80, 40], head [200, 80]). */
    public static TrainConfig defaults(ModelKind kind, int maxHistory, int epochs, long seed) {
        return new TrainConfig(kind, 18, 36, maxHistory, List.of(80, 40), List.of(200, 80), 1e-3, 128, epochs, 1.0, seed,
                Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));
    }

    /** D = 2E. */
    public int itemDim() {
        return 2 * embeddingDim;
    }
}

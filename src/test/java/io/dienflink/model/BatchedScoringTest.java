package io.dienflink.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.reference.UntrainedBundles;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batched scoring path ({@link DienScorer.Batching#BATCHED}: attention queries of all candidates
 * as one product, the AUGRU with candidates as lanes or rows) against the per-candidate path it
 * replaced, on random weights, for every semantic option of {@link ModelConfig} (cell reset modes,
 * AUGRU forms, attention kinds, query projection, attention and head activations, batch norm),
 * with 1, 7, 10 and 100 candidates, both kernel implementations, a wrapped ring and a partly filled
 * window. Every intermediate the trace exposes is compared, so a wrong gate shows as a wrong final
 * interest, not only as a slightly different CTR.
 */
class BatchedScoringTest {
    /**
     * Batched and per-candidate paths perform the same operations with the sums of the gate and
     * query products blocked differently: equal up to float32 reordering (measured: at most
     * 1.8·10⁻⁷ on 256- and 512-bit vectors, exactly equal on scalar kernels).
     */
    static final float BATCH_TOLERANCE = 1e-6f;
    private static final int T = 30;
    private static final ModelConfig OFFICIAL = UntrainedBundles.officialArchitecture("batched",
            new ModelConfig.VocabSizes(50, 400, 30), T);

    static Stream<Arguments> configs() {
        List<ModelConfig> configs = new ArrayList<>();
        for (ResetMode extractor : ResetMode.values()) {
            for (ResetMode evolver : ResetMode.values()) {
                for (AugruForm form : AugruForm.values()) {
                    configs.add(new ModelConfig(extractor + "/" + evolver + "/" + form, 18, 36, T, OFFICIAL.vocab(),
                            extractor, OFFICIAL.attention(), new ModelConfig.EvolverConfig(form, evolver), OFFICIAL.head()));
                }
            }
        }
        // attention without query projection needs D = 2E = H: 18·2 = 36 holds
        configs.add(withAttention("din-relu-no-projection",
                new ModelConfig.AttentionConfig(AttentionKind.DIN_MLP, false, List.of(24, 40, 17), Activation.RELU)));
        configs.add(withAttention("bilinear", ModelConfig.AttentionConfig.bilinear()));
        configs.add(withHead("prelu-head", new ModelConfig.HeadConfig(false, 0f, List.of(200, 80), Activation.PRELU)));
        configs.add(withHead("relu-head-bn", new ModelConfig.HeadConfig(true, 1e-3f, List.of(33), Activation.RELU)));
        List<Arguments> args = new ArrayList<>();
        for (ModelConfig c : configs) {
            for (String kernels : List.of("vector", "scalar")) {
                args.add(Arguments.of(c.modelVersion(), kernels, c));
            }
        }
        return args.stream();
    }

    private static ModelConfig withAttention(String name, ModelConfig.AttentionConfig attention) {
        return new ModelConfig(name, 18, 36, T, OFFICIAL.vocab(), ResetMode.BEFORE, attention, OFFICIAL.evolver(),
                OFFICIAL.head());
    }

    private static ModelConfig withHead(String name, ModelConfig.HeadConfig head) {
        return new ModelConfig(name, 18, 36, T, OFFICIAL.vocab(), ResetMode.AFTER, OFFICIAL.attention(),
                new ModelConfig.EvolverConfig(AugruForm.PAPER, ResetMode.AFTER), head);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("configs")
    void batchedEqualsPerCandidate(String name, String kernels, ModelConfig config) {
        Kernels k = "scalar".equals(kernels) ? Kernels.scalar() : Kernels.best();
        assertThat(k.describe()).as("the test JVM runs with the Vector API").startsWith(kernels);
        DienModel model = DienModel.from(UntrainedBundles.random(config, 23), k);
        DienScorer perCandidate = model.newScorer(DienScorer.Batching.PER_CANDIDATE);
        DienScorer batched = model.newScorer(DienScorer.Batching.BATCHED);
        // candidates as lanes whatever their number, so that layout is covered at C = 1, 7 and 10 too
        DienScorer lanes = new DienScorer(model, DienScorer.Batching.BATCHED, true);
        SplittableRandom r = new SplittableRandom(name.hashCode());
        for (int clicks : new int[] {T + 17, 11}) {
            InterestState state = perCandidate.newState();
            for (int i = 0; i < clicks; i++) {
                state.append(perCandidate, item(r), category(r));
            }
            for (int n : new int[] {1, 7, 10, 100}) {
                long[] items = new long[n];
                long[] categories = new long[n];
                for (int c = 0; c < n; c++) {
                    items[c] = item(r);
                    categories[c] = category(r);
                }
                for (Semantics semantics : Semantics.values()) {
                    ScoreTrace expected = state.trace(perCandidate, 42, items, categories, n, semantics);
                    for (DienScorer scorer : List.of(batched, lanes)) {
                        String what = String.format("%d clicks, %d candidates, %s, %s", clicks, n, semantics,
                                scorer == lanes ? "lanes" : "auto");
                        assertSameTrace(state.trace(scorer, 42, items, categories, n, semantics), expected, what);
                    }
                }
            }
        }
    }

    private static void assertSameTrace(ScoreTrace actual, ScoreTrace expected, String what) {
        for (int c = 0; c < expected.ctr.length; c++) {
            assertThat(actual.attention[c]).as("%s: attention of candidate %d", what, c)
                    .containsExactly(expected.attention[c], within(BATCH_TOLERANCE));
            assertThat(actual.finalInterest[c]).as("%s: final interest of candidate %d", what, c)
                    .containsExactly(expected.finalInterest[c], within(BATCH_TOLERANCE));
            assertThat(actual.logit[c]).as("%s: logit of candidate %d", what, c)
                    .isCloseTo(expected.logit[c], within(BATCH_TOLERANCE));
            assertThat(actual.ctr[c]).as("%s: ctr of candidate %d", what, c)
                    .isCloseTo(expected.ctr[c], within(BATCH_TOLERANCE));
        }
    }

    private static long item(SplittableRandom r) {
        // one id in ten is outside the vocabulary, as in production traffic
        return r.nextInt(10) == 0 ? 1 + r.nextInt(999) : UntrainedBundles.vocabularyId(r.nextInt(400));
    }

    private static long category(SplittableRandom r) {
        return UntrainedBundles.vocabularyId(r.nextInt(30));
    }
}

package io.dienflink.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.reference.UntrainedBundles;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Behaviour of {@link InterestState} beyond the golden cases: the ring buffer, loading a stored
 * user slot by slot, batching of candidates, rebuilding under another model, and agreement of the two kernel
 * implementations at production dimensions (T = 100, official architecture).
 */
class InterestStateTest {
    /** Agreement between independent float32 computations of the same quantity. */
    private static final float TOLERANCE = 2e-5f;
    /** The same computation run twice: equal up to what the JIT changes (KernelReproducibilityTest). */
    private static final float JIT = KernelReproducibilityTest.JIT_TOLERANCE;
    /** The same sums added in another order (a batch's blocked product, one row's split accumulators). */
    private static final float REORDERED = 1e-6f;

    private static final ModelConfig OFFICIAL = UntrainedBundles.officialArchitecture("untrained-test",
            new ModelConfig.VocabSizes(50, 400, 30), 100);
    private static final ModelBundle BUNDLE = UntrainedBundles.random(OFFICIAL, 7);

    private static long item(SplittableRandom r) {
        // one id in ten is outside the vocabulary, as in production traffic
        return r.nextInt(10) == 0 ? 1 + r.nextInt(999) : UntrainedBundles.vocabularyId(r.nextInt(400));
    }

    private static long category(SplittableRandom r) {
        return UntrainedBundles.vocabularyId(r.nextInt(30));
    }

    private static InterestState withClicks(DienScorer scorer, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        InterestState s = scorer.newState();
        for (int i = 0; i < n; i++) {
            s.append(scorer, item(r), category(r));
        }
        return s;
    }

    private static long[][] candidates(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] c = new long[2][n];
        for (int i = 0; i < n; i++) {
            c[0][i] = item(r);
            c[1][i] = category(r);
        }
        return c;
    }

    private static float[] score(InterestState s, DienScorer scorer, long[][] cand, Semantics sem) {
        float[] ctr = new float[cand[0].length];
        s.score(scorer, 42, cand[0], cand[1], ctr.length, sem, ctr);
        return ctr;
    }

    @Test
    void windowKeepsTheLatestClicksInOrder() {
        DienScorer scorer = DienModel.from(BUNDLE).newScorer();
        InterestState s = scorer.newState();
        for (int i = 0; i < 250; i++) {
            s.append(scorer, UntrainedBundles.vocabularyId(i % 400), UntrainedBundles.vocabularyId(i % 30));
        }
        assertThat(s.windowLength()).isEqualTo(100);
        assertThat(s.totalClicks()).isEqualTo(250);
        for (int t = 0; t < 100; t++) {
            assertThat(s.itemAt(t)).isEqualTo(UntrainedBundles.vocabularyId((150 + t) % 400));
            assertThat(s.categoryAt(t)).isEqualTo(UntrainedBundles.vocabularyId((150 + t) % 30));
        }
    }

    @Test
    void streamingStateAfterEachClickIsOneCellStepFromThePrevious() {
        DienScorer scorer = DienModel.from(BUNDLE).newScorer();
        InterestState s = withClicks(scorer, 130, 1);
        InterestState replay = withClicks(scorer, 129, 1);
        // the state 130 clicks in continues the 129-click state: the shared 99 rows are the same
        // computation (to the last ulp or so: the JIT may compile the kernels between the two runs)
        for (int t = 0; t < 99; t++) {
            assertThat(s.stateAt(t)).containsExactly(replay.stateAt(t + 1), within(JIT));
        }
    }

    @Test
    void windowedEqualsStreamingUpToTClicksAndDiffersAfter() {
        DienScorer scorer = DienModel.from(BUNDLE).newScorer();
        long[][] cand = candidates(5, 3);
        InterestState full = withClicks(scorer, 100, 2);
        assertThat(score(full, scorer, cand, Semantics.WINDOWED))
                .containsExactly(score(full, scorer, cand, Semantics.STREAMING), within(TOLERANCE));
        InterestState longer = withClicks(scorer, 160, 2);
        ScoreTrace windowed = longer.trace(scorer, 42, cand[0], cand[1], 5, Semantics.WINDOWED);
        ScoreTrace streaming = longer.trace(scorer, 42, cand[0], cand[1], 5, Semantics.STREAMING);
        // The first window state carries 60 older clicks when streaming and none when windowed.
        assertThat(maxAbsDiff(windowed.windowStates[0], streaming.windowStates[0])).isGreaterThan(1e-2f);
        assertThat(windowed.windowStates[0]).containsExactly(firstStateOf(scorer, longer), within(TOLERANCE));
    }

    private static float[] firstStateOf(DienScorer scorer, InterestState s) {
        InterestState one = scorer.newState();
        one.append(scorer, s.itemAt(0), s.categoryAt(0));
        return one.stateAt(0);
    }

    @Test
    void advanceStepsAStoredNewestStateAsAppendDoes() {
        DienScorer scorer = DienModel.from(BUNDLE).newScorer();
        InterestState s = withClicks(scorer, 130, 12);
        // a store that keeps only the newest state per user, plus one entry per click
        float[] newest = s.stateAt(99);
        s.append(scorer, UntrainedBundles.vocabularyId(8), UntrainedBundles.vocabularyId(9));
        scorer.advance(newest, UntrainedBundles.vocabularyId(8), UntrainedBundles.vocabularyId(9));
        assertThat(newest).containsExactly(s.stateAt(99), within(JIT));
    }

    @Test
    void resetAndPutLoadAWrappedRingIntoAReusedState() {
        DienScorer scorer = DienModel.from(BUNDLE).newScorer();
        InterestState s = withClicks(scorer, 130, 12); // the ring has wrapped: the oldest click is at slot 30
        InterestState reused = withClicks(scorer, 7, 3); // another user's data in the arrays
        reused.reset(s.modelFingerprint(), 100, 36, s.totalClicks(), 100, 30);
        for (int t = 0; t < 100; t++) {
            reused.put((30 + t) % 100, s.itemAt(t), s.categoryAt(t), s.stateAt(t));
        }
        assertSameUser(reused, s);
        long[] items = {UntrainedBundles.vocabularyId(1)};
        long[] cats = {UntrainedBundles.vocabularyId(2)};
        float[] expected = new float[1];
        float[] actual = new float[1];
        s.score(scorer, 5, items, cats, 1, Semantics.STREAMING, expected);
        reused.score(scorer, 5, items, cats, 1, Semantics.STREAMING, actual);
        assertThat(actual).containsExactly(expected, within(JIT));
        // a partly filled window must start at slot 0
        assertThatThrownBy(() -> reused.reset(1, 100, 36, 50, 50, 7)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> reused.reset(1, 100, 36, 10, 50, 50)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> reused.put(100, 1, 1, new float[36])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void batchOfCandidatesScoresLikeEachCandidateAlone() {
        for (String golden : GoldenCases.BUNDLES) {
            DienScorer scorer = DienModel.from(GoldenCases.bundle(golden)).newScorer();
            GoldenCases.Case c = GoldenCases.load(golden).cases().get(4);
            InterestState s = scorer.newState();
            c.clicks().forEach(k -> s.append(scorer, k.itemId(), k.categoryId()));
            long[][] cand = {c.candidateItems(), c.candidateCategories()};
            float[] batch = score(s, scorer, cand, Semantics.STREAMING);
            for (int i = 0; i < batch.length; i++) {
                float[] one = score(s, scorer, new long[][] {{cand[0][i]}, {cand[1][i]}}, Semantics.STREAMING);
                assertThat(one[0]).as("%s candidate %d", golden, i).isCloseTo(batch[i], within(REORDERED));
            }
        }
        DienScorer scorer = DienModel.from(BUNDLE).newScorer();
        InterestState s = withClicks(scorer, 140, 9);
        long[][] cand = candidates(100, 11);
        float[] batch = score(s, scorer, cand, Semantics.STREAMING);
        for (int i = 0; i < 100; i += 13) {
            float[] one = score(s, scorer, new long[][] {{cand[0][i]}, {cand[1][i]}}, Semantics.STREAMING);
            assertThat(one[0]).isCloseTo(batch[i], within(REORDERED));
        }
    }

    @Test
    void vectorAndScalarKernelsAgreeAtProductionDimensions() {
        DienScorer vector = DienModel.from(BUNDLE, Kernels.best()).newScorer();
        DienScorer scalar = DienModel.from(BUNDLE, Kernels.scalar()).newScorer();
        assertThat(vector.model().kernels().describe()).startsWith("vector");
        InterestState sv = withClicks(vector, 300, 4);
        InterestState ss = withClicks(scalar, 300, 4);
        for (int t = 0; t < 100; t++) {
            assertThat(sv.stateAt(t)).containsExactly(ss.stateAt(t), within(TOLERANCE));
        }
        long[][] cand = candidates(33, 8);
        for (Semantics sem : Semantics.values()) {
            assertThat(score(sv, vector, cand, sem)).containsExactly(score(ss, scalar, cand, sem), within(TOLERANCE));
        }
    }

    @Test
    void emptyHistoryScoresFromUserAndCandidateOnly() {
        DienScorer scorer = DienModel.from(BUNDLE).newScorer();
        InterestState s = scorer.newState();
        ScoreTrace t = s.trace(scorer, 42, new long[] {1000, 2000}, new long[] {1000, 1000}, 2, Semantics.STREAMING);
        assertThat(t.windowStates).isEmpty();
        assertThat(t.attention[0]).isEmpty();
        assertThat(t.finalInterest[0]).containsOnly(0f);
        assertThat(t.ctr[0]).isBetween(0f, 1f).isNotEqualTo(t.ctr[1]);
    }

    @Test
    void stateOfAnotherModelIsRefusedUntilRebuilt() {
        DienScorer a = DienModel.from(BUNDLE).newScorer();
        ModelBundle otherBundle = UntrainedBundles.random(UntrainedBundles.officialArchitecture("untrained-test-40",
                OFFICIAL.vocab(), 40), 99);
        DienScorer b = DienModel.from(otherBundle).newScorer();
        InterestState s = withClicks(a, 120, 6);
        long[][] cand = candidates(4, 2);
        assertThatThrownBy(() -> score(s, b, cand, Semantics.STREAMING)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("rebuild");
        assertThatThrownBy(() -> s.append(b, 1000, 1000)).isInstanceOf(IllegalStateException.class);

        InterestState rebuilt = copyOf(s, a);
        rebuilt.rebuild(b);
        assertThat(rebuilt.modelFingerprint()).isEqualTo(b.model().fingerprint64());
        assertThat(rebuilt.windowLength()).isEqualTo(40);
        assertThat(rebuilt.capacity()).isEqualTo(40);
        for (int t = 0; t < 40; t++) {
            assertThat(rebuilt.itemAt(t)).isEqualTo(s.itemAt(60 + t));
        }
        // the rebuilt states are model B's windowed states over the kept clicks
        InterestState fresh = b.newState();
        for (int t = 0; t < 40; t++) {
            fresh.append(b, s.itemAt(60 + t), s.categoryAt(60 + t));
        }
        assertThat(score(rebuilt, b, cand, Semantics.STREAMING)).containsExactly(score(fresh, b, cand, Semantics.STREAMING), within(REORDERED));
        // a larger maxHistory keeps everything stored
        InterestState back = copyOf(rebuilt, b);
        back.rebuild(a);
        assertThat(back.windowLength()).isEqualTo(40);
        assertThat(back.capacity()).isEqualTo(100);
        back.append(a, 1000, 1000);
        assertThat(back.windowLength()).isEqualTo(41);
    }

    /** A copy through {@link InterestState#reset} and {@link InterestState#put}, as a store loads a user. */
    private static InterestState copyOf(InterestState s, DienScorer scorer) {
        InterestState copy = scorer.newState();
        int n = s.windowLength();
        copy.reset(s.modelFingerprint(), s.capacity(), s.stateAt(0).length, s.totalClicks(), n, n == s.capacity() ? 0 : n);
        for (int t = 0; t < n; t++) {
            copy.put(t, s.itemAt(t), s.categoryAt(t), s.stateAt(t));
        }
        return copy;
    }

    /** The same user: model, counts, and the window's clicks and states, oldest first, bit for bit. */
    private static void assertSameUser(InterestState actual, InterestState expected) {
        assertThat(actual.modelFingerprint()).isEqualTo(expected.modelFingerprint());
        assertThat(actual.capacity()).isEqualTo(expected.capacity());
        assertThat(actual.totalClicks()).isEqualTo(expected.totalClicks());
        assertThat(actual.windowLength()).isEqualTo(expected.windowLength());
        for (int t = 0; t < expected.windowLength(); t++) {
            assertThat(actual.itemAt(t)).as("item %d", t).isEqualTo(expected.itemAt(t));
            assertThat(actual.categoryAt(t)).as("category %d", t).isEqualTo(expected.categoryAt(t));
            assertThat(actual.stateAt(t)).as("state %d", t).isEqualTo(expected.stateAt(t));
        }
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}

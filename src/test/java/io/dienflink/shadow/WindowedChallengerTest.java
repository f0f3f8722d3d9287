package io.dienflink.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.CtrScore;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.InterestState;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The challenger's scores ({@link WindowedChallenger}) for bundle B = the golden "torch" bundle
 * (T = 12, E = 8, H = 16, other vocabularies) on windows of up to 20 raw clicks, as the serving
 * bundle "official" (T = 20, E = 18, H = 36) keeps them: equal to the golden cases' windowed CTRs
 * (computed independently from MODEL_BUNDLE.md), and to the model core's windowed scores of the
 * same window through the plain API (what {@code score --mode windowed} does).
 */
class WindowedChallengerTest {
    private final GoldenCases.Golden golden = GoldenCases.load("torch");
    private final DienModel b = DienModel.from(GoldenCases.bundle("torch"));
    private final int servingT = GoldenCases.bundle("official").config().maxHistory();

    @Test
    void bundleBDiffersFromTheServingBundleInEveryDimension() {
        var a = GoldenCases.bundle("official").config();
        var c = b.config();
        assertThat(c.maxHistory()).isNotEqualTo(a.maxHistory());
        assertThat(c.hiddenDim()).isNotEqualTo(a.hiddenDim());
        assertThat(c.embeddingDim()).isNotEqualTo(a.embeddingDim());
    }

    @Test
    void scoresEqualTheGoldenWindowedCtrs() {
        WindowedChallenger challenger = new WindowedChallenger(b);
        int longerThanB = 0;
        for (GoldenCases.Case c : golden.cases()) {
            assertThat(c.clicks().size()).as("a window the serving bundle can hold").isLessThanOrEqualTo(servingT);
            ShadowRequest r = request(c, c.clicks());
            CtrScore s = challenger.score(r, 42);
            assertThat(s.getRequestId().toString()).isEqualTo(r.requestId());
            assertThat(s.getModelFingerprint().toString()).isEqualTo(b.fingerprint());
            assertThat(s.getModelVersion().toString()).isEqualTo(b.modelVersion());
            assertThat(s.getHistoryLength()).isEqualTo(Math.min(c.clicks().size(), b.config().maxHistory()));
            assertThat(s.getClicksApplied()).isEqualTo(r.clicksApplied());
            assertThat(s.getScores()).hasSize(c.candidates().size());
            for (int i = 0; i < c.candidates().size(); i++) {
                assertThat(s.getScores().get(i).getItemId()).isEqualTo(c.candidates().get(i).itemId());
                assertThat((double) s.getScores().get(i).getCtr()).as("%s candidate %d", c.name(), i)
                        .isCloseTo(c.expected().windowedCtr()[i], within(golden.tolerance().ctr()));
            }
            if (c.clicks().size() > b.config().maxHistory()) {
                longerThanB++;
            }
        }
        assertThat(longerThanB).as("cases whose window B must cut to its T").isGreaterThanOrEqualTo(2);
    }

    @Test
    void scoresEqualTheModelCoresWindowedScoresThroughThePlainApi() {
        WindowedChallenger challenger = new WindowedChallenger(b);
        DienScorer reference = b.newScorer();
        for (GoldenCases.Case c : golden.cases()) {
            // windows of every length up to the serving T, cut from the case's clicks repeated
            List<GoldenCases.Click> clicks = new ArrayList<>(c.clicks());
            while (!clicks.isEmpty() && clicks.size() < servingT) {
                clicks.addAll(c.clicks());
            }
            for (int n = 0; n <= Math.min(servingT, clicks.size()); n += 3) {
                List<GoldenCases.Click> window = clicks.subList(clicks.size() - n, clicks.size());
                InterestState s = reference.newState();
                window.forEach(k -> s.append(reference, k.itemId(), k.categoryId()));
                float[] expected = new float[c.candidates().size()];
                s.score(reference, c.userId(), c.candidateItems(), c.candidateCategories(), expected.length,
                        Semantics.WINDOWED, expected);
                CtrScore got = challenger.score(request(c, window), 1);
                for (int i = 0; i < expected.length; i++) {
                    assertThat(got.getScores().get(i).getCtr()).as("%s, window %d, candidate %d", c.name(), n, i)
                            .isCloseTo(expected[i], within(Reproducibility.TOLERANCE));
                }
            }
        }
    }

    private static ShadowRequest request(GoldenCases.Case c, List<GoldenCases.Click> window) {
        return new ShadowRequest("r-" + c.name(), c.userId(), 1_700_000_000_000L, c.candidateItems(),
                c.candidateCategories(), window.stream().mapToLong(GoldenCases.Click::itemId).toArray(),
                window.stream().mapToLong(GoldenCases.Click::categoryId).toArray(), window.size() + 3);
    }
}

package io.dienflink.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case of every shared bundle, through {@link InterestState} built click by click
 * (streaming) and recomputed from the window (windowed), with both kernel implementations, at the
 * tolerances the case files give. Intermediate values (window states, attention weights, final
 * interest, logits) are checked too, so a wrong layer is pinned down rather than only a wrong CTR.
 */
class InterestStateGoldenTest {

    static Stream<Arguments> cases() {
        return GoldenCases.BUNDLES.stream().flatMap(bundle -> {
            GoldenCases.Golden golden = GoldenCases.load(bundle);
            return Stream.of("vector", "scalar").flatMap(kernels -> golden.cases().stream()
                    .map(c -> Arguments.of(bundle, kernels, golden.tolerance(), c)));
        });
    }

    private static DienModel model(String bundle, String kernels) {
        Kernels k = "scalar".equals(kernels) ? Kernels.scalar() : Kernels.best();
        assertThat(k.describe()).as("the test JVM runs with the Vector API").startsWith(kernels);
        return DienModel.from(GoldenCases.bundle(bundle), k);
    }

    @ParameterizedTest(name = "{0} {1} {3}")
    @MethodSource("cases")
    void streamingMatchesGoldenIncludingIntermediates(String bundle, String kernels, GoldenCases.Tolerance tol,
                                                      GoldenCases.Case c) {
        DienModel model = model(bundle, kernels);
        DienScorer scorer = model.newScorer();
        InterestState state = scorer.newState();
        for (GoldenCases.Click click : c.clicks()) {
            state.append(scorer, click.itemId(), click.categoryId());
        }
        ScoreTrace trace = state.trace(scorer, c.userId(), c.candidateItems(), c.candidateCategories(),
                c.candidates().size(), Semantics.STREAMING);
        GoldenCases.Expected e = c.expected();

        assertThat(state.windowLength()).isEqualTo(e.windowStates().length);
        assertThat(trace.windowStates).hasDimensions(e.windowStates().length, model.config().hiddenDim());
        for (int t = 0; t < e.windowStates().length; t++) {
            assertClose(trace.windowStates[t], e.windowStates()[t], tol.state(), "window state " + t);
        }
        for (int i = 0; i < c.candidates().size(); i++) {
            assertClose(trace.attention[i], e.attention()[i], tol.state(), "attention of candidate " + i);
            assertClose(trace.finalInterest[i], e.finalInterest()[i], tol.state(), "final interest of candidate " + i);
            assertThat(trace.logit[i]).as("logit of candidate %d", i).isCloseTo(e.logit()[i], within((float) tol.state()));
            assertThat(trace.ctr[i]).as("ctr of candidate %d", i).isCloseTo(e.ctr()[i], within((float) tol.ctr()));
        }
    }

    @ParameterizedTest(name = "{0} {1} {3}")
    @MethodSource("cases")
    void windowedMatchesGolden(String bundle, String kernels, GoldenCases.Tolerance tol, GoldenCases.Case c) {
        DienModel model = model(bundle, kernels);
        DienScorer scorer = model.newScorer();
        InterestState state = scorer.newState();
        for (GoldenCases.Click click : c.clicks()) {
            state.append(scorer, click.itemId(), click.categoryId());
        }
        ScoreTrace trace = state.trace(scorer, c.userId(), c.candidateItems(), c.candidateCategories(),
                c.candidates().size(), Semantics.WINDOWED);
        for (int i = 0; i < c.candidates().size(); i++) {
            assertThat(trace.logit[i]).as("windowed logit of candidate %d", i)
                    .isCloseTo(c.expected().windowedLogit()[i], within((float) tol.state()));
            assertThat(trace.ctr[i]).as("windowed ctr of candidate %d", i)
                    .isCloseTo(c.expected().windowedCtr()[i], within((float) tol.ctr()));
        }
    }

    static void assertClose(float[] actual, float[] expected, double tol, String what) {
        assertThat(actual).as(what + " length").hasSameSizeAs(expected);
        for (int j = 0; j < expected.length; j++) {
            assertThat(actual[j]).as("%s [%d]", what, j).isCloseTo(expected[j], within((float) tol));
        }
    }
}

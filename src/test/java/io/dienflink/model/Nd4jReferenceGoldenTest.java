package io.dienflink.model;

import static io.dienflink.model.InterestStateGoldenTest.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.reference.Nd4jReferenceModel;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ND4J op-by-op reference (the benchmarks' baseline) against the golden cases: a second,
 * independent reading of the spec, so that a benchmark never compares against a wrong baseline.
 */
class Nd4jReferenceGoldenTest {

    static Stream<Arguments> cases() {
        return GoldenCases.BUNDLES.stream().flatMap(bundle -> {
            GoldenCases.Golden golden = GoldenCases.load(bundle);
            return golden.cases().stream().map(c -> Arguments.of(bundle, golden.tolerance(), c));
        });
    }

    static long[][] pairs(java.util.List<GoldenCases.Click> clicks) {
        return clicks.stream().map(c -> new long[] {c.itemId(), c.categoryId()}).toArray(long[][]::new);
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void referenceMatchesGolden(String bundle, GoldenCases.Tolerance tol, GoldenCases.Case c) {
        try (Nd4jReferenceModel ref = new Nd4jReferenceModel(GoldenCases.bundle(bundle))) {
            Nd4jReferenceModel.Result s = ref.score(c.userId(), pairs(c.clicks()), pairs(c.candidates()), Semantics.STREAMING);
            GoldenCases.Expected e = c.expected();
            assertThat(s.windowStates()).hasNumberOfRows(e.windowStates().length);
            for (int t = 0; t < e.windowStates().length; t++) {
                assertClose(s.windowStates()[t], e.windowStates()[t], tol.state(), "window state " + t);
            }
            for (int i = 0; i < c.candidates().size(); i++) {
                assertClose(s.attention()[i], e.attention()[i], tol.state(), "attention " + i);
                assertClose(s.finalInterest()[i], e.finalInterest()[i], tol.state(), "final interest " + i);
                assertThat(s.ctr()[i]).as("ctr %d", i).isCloseTo(e.ctr()[i], within((float) tol.ctr()));
            }
            Nd4jReferenceModel.Result w = ref.score(c.userId(), pairs(c.clicks()), pairs(c.candidates()), Semantics.WINDOWED);
            for (int i = 0; i < c.candidates().size(); i++) {
                assertThat(w.ctr()[i]).as("windowed ctr %d", i).isCloseTo(e.windowedCtr()[i], within((float) tol.ctr()));
                assertThat(w.logit()[i]).as("windowed logit %d", i).isCloseTo(e.windowedLogit()[i], within((float) tol.state()));
            }
        }
    }
}

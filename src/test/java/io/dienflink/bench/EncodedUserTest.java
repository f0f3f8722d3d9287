package io.dienflink.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelConfig;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import io.dienflink.reference.UntrainedBundles;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EncodedUserTest {
    private static final DienScorer SCORER = DienModel.from(UntrainedBundles.random(UntrainedBundles.officialArchitecture(
            "encoded-user-test", new ModelConfig.VocabSizes(50, 400, 30), 100), 7)).newScorer();
    private static final int HIDDEN = 36;

    private static InterestState withClicks(int n) {
        InterestState s = SCORER.newState();
        for (int i = 0; i < n; i++) {
            s.append(SCORER, UntrainedBundles.vocabularyId(i * 7 % 400), UntrainedBundles.vocabularyId(i % 30));
        }
        return s;
    }

    @Test
    void roundTripsEveryWindowLengthExactly() {
        for (int n : new int[] {0, 1, 37, 100, 231}) {
            InterestState s = withClicks(n);
            byte[] bytes = EncodedUser.encode(s, HIDDEN);
            assertThat(bytes).hasSize(EncodedUser.size(s.windowLength(), HIDDEN)).hasSize(29 + Math.min(n, 100) * (16 + 4 * HIDDEN));
            InterestState d = EncodedUser.decode(bytes, SCORER);
            assertThat(EncodedUser.encode(d, HIDDEN)).as("re-encoding after %d clicks", n).isEqualTo(bytes);
            assertThat(d.totalClicks()).isEqualTo(n);
            assertThat(d.windowLength()).isEqualTo(Math.min(n, 100));
            assertThat(d.modelFingerprint()).isEqualTo(s.modelFingerprint());
            // the decoded copy goes on as the original does
            s.append(SCORER, UntrainedBundles.vocabularyId(3), UntrainedBundles.vocabularyId(4));
            d.append(SCORER, UntrainedBundles.vocabularyId(3), UntrainedBundles.vocabularyId(4));
            assertThat(EncodedUser.encode(d, HIDDEN)).isEqualTo(EncodedUser.encode(s, HIDDEN));
            float[] expected = new float[1];
            float[] actual = new float[1];
            long[] item = {UntrainedBundles.vocabularyId(5)};
            long[] category = {UntrainedBundles.vocabularyId(6)};
            s.score(SCORER, 1, item, category, 1, Semantics.STREAMING, expected);
            d.score(SCORER, 1, item, category, 1, Semantics.STREAMING, actual);
            // equal to float rounding: the Vector API's kernels may be compiled between the two calls
            assertThat(actual).containsExactly(expected, within(Reproducibility.TOLERANCE));
        }
    }

    @Test
    void rejectsUnknownVersionsAndTruncation() {
        byte[] bytes = EncodedUser.encode(withClicks(10), HIDDEN);
        byte[] future = bytes.clone();
        future[0] = 9;
        assertThatThrownBy(() -> EncodedUser.decode(future, SCORER)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown encoding version 9");
        assertThatThrownBy(() -> EncodedUser.decode(Arrays.copyOf(bytes, bytes.length - 3), SCORER))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("truncated");
    }
}

package io.dienflink.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SpreadTest {
    @Test
    void medianAndRangeOfAnOddNumberOfRepeats() {
        Spread s = Spread.of(30, 10, 20);
        assertThat(s).isEqualTo(new Spread(20, 10, 30, 3));
        assertThat(s.format(1)).isEqualTo("20.0 (10.0–30.0)");
    }

    @Test
    void medianOfAnEvenNumberIsTheMeanOfTheMiddleTwo() {
        assertThat(Spread.of(4, 1, 2, 100).median()).isEqualTo(3);
        assertThat(Spread.of(7).format(0)).isEqualTo("7 (7–7)");
    }

    @Test
    void noValuesIsAnError() {
        assertThatThrownBy(Spread::of).isInstanceOf(IllegalArgumentException.class);
    }
}

package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The time forms {@code eval-report} and {@code export-samples} take for --from and --to. */
class TimeArgumentTest {
    private final TimeArgument time = new TimeArgument();

    @Test
    void readsInstantsEpochMillisAndTimesBeforeNow() {
        assertThat(time.convert("2026-12-07T15:00:00Z")).isEqualTo(Instant.parse("2026-12-07T15:00:00Z"));
        assertThat(time.convert("1796655600000")).isEqualTo(Instant.ofEpochMilli(1796655600000L));
        Instant before = Instant.now().minus(Duration.ofMinutes(30));
        Instant t = time.convert("now-30min");
        assertThat(t).isBetween(before.minusSeconds(1), Instant.now().minus(Duration.ofMinutes(30)).plusSeconds(1));
        assertThat(time.convert("now-6h")).isBefore(Instant.now().minus(Duration.ofHours(6)).plusSeconds(1));
        assertThatThrownBy(() -> time.convert("yesterday")).isInstanceOf(CommandLine.TypeConversionException.class)
                .hasMessageContaining("is not a time");
    }
}

package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The {@code bench} subcommand: its argument checks, and one short run that checks its result line
 * has every field with sane values (the measurements themselves are run by hand: docs/benchmarks.md;
 * nothing here depends on the machine's speed).
 */
class BenchCommandTest {
    private static final Pattern RESULT = Pattern.compile(
            "bench clicks_per_s=(\\d+) requests_per_s=(\\d+) p50_ms=(\\d+) p99_ms=(\\d+) capacity_ratio=(\\d+\\.\\d+)");

    @Test
    void aWarmUpAsLongAsTheLatencyPhaseIsRejectedBeforeAnythingStarts() {
        CliRun r = CliRun.of("bench", "--latency-duration", "10s", "--latency-warmup", "10s");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--latency-warmup (PT10S) must be shorter than --latency-duration (PT10S)");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void aWarmUpAsLongAsTheSaturationPhaseIsRejectedBeforeAnythingStarts() {
        CliRun r = CliRun.of("bench", "--saturation-duration", "5s", "--saturation-warmup", "6s");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--saturation-warmup (PT6S) must be shorter than --saturation-duration (PT5S)");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void noRepeatsAndAnOfferTheJobCouldMeetAreRejected() {
        assertThat(CliRun.of("bench", "--repeats", "0").exit()).isEqualTo(2);
        CliRun r = CliRun.of("bench", "--saturation-offer", "0.9");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--saturation-offer above 1");
    }

    @Test
    void aShortRunEndsWithEveryFigureAndTheCapacityRatio() {
        CliRun r = CliRun.of("bench", "--repeats", "1", "--clicks", "3000", "--candidates", "3",
                "--capacity-duration", "1s", "--saturation-duration", "4s", "--saturation-warmup", "1s",
                "--latency-duration", "3s", "--latency-warmup", "1s", "--background-clicks-per-second", "100");
        assertThat(r.exit()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\n");
        Matcher m = RESULT.matcher(lines[lines.length - 1]);
        assertThat(m.matches()).as("last line: " + lines[lines.length - 1]).isTrue();
        double clicks = Double.parseDouble(m.group(1));
        double saturated = Double.parseDouble(m.group(2));
        double p50 = Double.parseDouble(m.group(3));
        double p99 = Double.parseDouble(m.group(4));
        double ratio = Double.parseDouble(m.group(5));
        assertThat(clicks).isPositive();
        assertThat(saturated).isPositive();
        assertThat(p50).isLessThanOrEqualTo(p99);
        // saturated rate over capacity × parallelism: the job scores more than nothing, and cannot
        // score more than it was offered (1.25 × capacity × parallelism by default), give or take
        // the scores of the warm-up's backlog read in the measured seconds
        assertThat(ratio).isPositive().isLessThan(2.0);
        assertThat(r.err()).contains("Model core capacity: ", "Saturated: ", "Summary over 1 repeats",
                "saturated / (capacity × 2):");
    }
}

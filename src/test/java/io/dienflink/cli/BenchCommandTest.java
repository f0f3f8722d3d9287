package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The {@code bench} subcommand's argument checks (its measurements are run by hand: docs/benchmarks.md). */
class BenchCommandTest {
    @Test
    void aWarmUpAsLongAsTheLatencyPhaseIsRejectedBeforeAnythingStarts() {
        CliRun r = CliRun.of("bench", "--latency-duration", "10s", "--latency-warmup", "10s");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--latency-warmup (PT10S) must be shorter than --latency-duration (PT10S)");
        assertThat(r.out()).isEmpty();
    }
}

package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterBenchLineTest {
    private static final Timeline.Stats LATENCY = new Timeline.Stats(100, 20_000, 15, 40, 90, 120, 70);
    private static final List<ClusterBenchLine.Checkpoint> CHECKPOINTS = List.of(
            new ClusterBenchLine.Checkpoint(10, 30, 3_300_000, 900_000_000), new ClusterBenchLine.Checkpoint(20, 50, 3_500_000, 910_000_000));

    @Test
    void cpuPerClickPerRequestAndPerEventWithTheIdleSubtracted() {
        // 100 s, 0.8 cores: 80 s of CPU; 0.05 cores idle: 5 s of it would have been spent anyway
        var cpu = new ClusterBenchLine.TaskManagerCpu(80_000_000_000L, 100, 500_000, 20_000, 0.05);
        assertThat(cpu.cores()).isCloseTo(0.8, within(1e-9));
        assertThat(cpu.microsPerClick()).hasValue(160.0);
        assertThat(cpu.microsPerRequest()).hasValue(4_000.0);
        assertThat(cpu.microsPerEvent().getAsDouble()).isCloseTo(80e6 / 520_000, within(1e-9));
        assertThat(cpu.microsPerEventOverIdle().getAsDouble()).isCloseTo(75e6 / 520_000, within(1e-9));

        var requestsOnly = new ClusterBenchLine.TaskManagerCpu(10_000_000_000L, 100, 0, 20_000, Double.NaN);
        assertThat(requestsOnly.microsPerClick()).isEmpty();
        assertThat(requestsOnly.microsPerRequest()).hasValue(500.0);
        assertThat(requestsOnly.microsPerEventOverIdle()).isEmpty();
    }

    @Test
    void theDefaultRunsKeysComeFirstInTheirOrder() {
        var m = new ClusterBenchLine.Measured(LATENCY, 100, new ClusterBenchLine.TaskManagerCpu(80_000_000_000L, 100, 500_000,
                20_000, Double.NaN), CHECKPOINTS, List.of(42L));
        String line = ClusterBenchLine.line("shipped", 10_000, "uniform", m, null, null, 0, null, null, 60);
        assertThat(line).startsWith("cluster-bench config=shipped users=10000 seconds=100 clicks_per_s=5000 requests_per_s=200 "
                + "p50_ms_median=15 p99_ms_median=40 p99_ms_worst=90 max_ms=120 seconds_p99_over_30ms=70 checkpoints=2 "
                + "sync_ms_median=10 sync_ms_max=20 async_ms_median=30 async_ms_max=50 checkpointed_mb_median=3.3 "
                + "state_mb_last=900.0 materializations=1 materialized_at_s=42 tm_cpu_cores=0.80 tm_cpu_us_per_click=160.0 ");
        assertThat(line).endsWith(" request_users=uniform tm_cpu_us_per_request=4000.0 tm_cpu_us_per_event=153.8");
        // nothing of the phases that did not run, nor of the idle measurement that was skipped
        assertThat(line).doesNotContain("idle", "model_", "restore_", "rescale_", "upgrade_");
    }

    @Test
    void printsWhatEachPhaseMeasured() {
        var m = new ClusterBenchLine.Measured(LATENCY, 100, new ClusterBenchLine.TaskManagerCpu(10_000_000_000L, 100, 0,
                20_000, 0.05), List.of(), List.of());
        var restore = new ClusterBenchLine.Restart(Double.NaN, Double.NaN, 1_234_000_000L, 41.26, 38.0, 1_500_000_000L, -1, -1);
        var rescale = new ClusterBenchLine.Restart(6.5, 2.25, 1_300_000_000L, 12.0, 10.5, -1, 35, 250);
        var upgrade = new ClusterBenchLine.Restart(5.0, Double.NaN, 1_310_000_000L, 9.0, Double.NaN, 1_400_000_000L, 80, 600);
        String line = ClusterBenchLine.line("big", 10_000_000, "hot:1000", m, new ClusterBenchLine.ModelCpu(24.96, 30), restore,
                4, rescale, upgrade, 60);
        assertThat(line).doesNotContain("tm_cpu_us_per_click=");
        assertThat(line).contains(" request_users=hot:1000 tm_cpu_us_per_request=500.0 tm_cpu_us_per_event=500.0 "
                + "tm_idle_cpu_cores=0.050 tm_cpu_us_per_event_over_idle=250.0 model_cpu_us_per_request=25.0 model_window=30 "
                + "restore_savepoint_mb=1234.0 restore_running_s=38.0 restore_first_score_s=41.3 restore_state_mb=1500.0 "
                + "rescale_taskmanagers=4 rescale_stop_s=6.5 rescale_savepoint_s=2.3 rescale_savepoint_mb=1300.0 rescale_running_s=10.5 "
                + "rescale_first_score_s=12.0 rescale_p99_ms_60s=35 rescale_max_ms_60s=250 "
                + "upgrade_stop_s=5.0 upgrade_savepoint_mb=1310.0 upgrade_first_score_s=9.0 upgrade_state_mb=1400.0 "
                + "upgrade_p99_ms_60s=80 upgrade_max_ms_60s=600");
        assertThat(line).doesNotContain("restore_stop_s", "restore_savepoint_s", "restore_p99", "upgrade_savepoint_s");
        // one line of key=value pairs
        assertThat(line).doesNotContain("\n");
        for (String pair : line.substring("cluster-bench ".length()).split(" ")) {
            assertThat(pair).matches("[a-z0-9_]+=[^= ]+");
        }
    }
}

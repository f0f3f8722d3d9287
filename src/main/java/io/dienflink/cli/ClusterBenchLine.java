package io.dienflink.cli;

import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * What one {@code cluster-bench} run measured, and its one summary line: {@code cluster-bench
 * key=value ...}, the keys of the default run first and in their original order, then those of the
 * optional phases. A phase that did not run, or a figure with nothing to divide by, leaves its keys
 * out rather than print a placeholder.
 */
final class ClusterBenchLine {
    private ClusterBenchLine() {}

    /** One completed checkpoint: the scorer's slowest subtask's sync and async ms, and the checkpoint's bytes. */
    record Checkpoint(long syncMs, long asyncMs, long checkpointedBytes, long stateBytes) {}

    /**
     * The TaskManager processes' CPU time (user + system, all TaskManagers) over the measured
     * window, and the traffic sent in it.
     *
     * @param idleCores the TaskManagers' CPU, in cores, measured without traffic before the warm-up; NaN if not measured
     */
    record TaskManagerCpu(long cpuNanos, double seconds, long clicks, long requests, double idleCores) {
        double cores() {
            return cpuNanos / 1e9 / seconds;
        }

        /** All of it per click: the requests' work included, unless the run sent no requests. */
        OptionalDouble microsPerClick() {
            return per(cpuNanos, clicks);
        }

        /** All of it per request: the clicks' work included, unless the run sent no clicks. */
        OptionalDouble microsPerRequest() {
            return per(cpuNanos, requests);
        }

        /** All of it per event (a click or a request). */
        OptionalDouble microsPerEvent() {
            return per(cpuNanos, clicks + requests);
        }

        /**
         * Per event, less what the TaskManagers spend with no traffic at all (checkpoints, timers,
         * heartbeats, metrics) over the same time: the cost the traffic adds.
         */
        OptionalDouble microsPerEventOverIdle() {
            return Double.isNaN(idleCores) ? OptionalDouble.empty()
                    : per((long) (cpuNanos - idleCores * seconds * 1e9), clicks + requests);
        }

        private static OptionalDouble per(long nanos, long events) {
            return events <= 0 ? OptionalDouble.empty() : OptionalDouble.of(nanos / 1e3 / events);
        }
    }

    /** The measured window: per-second latency, traffic, checkpoints and materializations. */
    record Measured(Timeline.Stats latency, double seconds, TaskManagerCpu cpu, List<Checkpoint> checkpoints,
                    List<Long> materializedAtS) {}

    /**
     * A submission from a snapshot ({@code --from-savepoint}) or a resubmission (rescale, upgrade).
     *
     * @param stopSeconds the stop-with-savepoint's wall time (Flink's CLI included); NaN for the first restore
     * @param savepointSeconds the savepoint's own duration, trigger to completion (Flink's checkpoint statistics); NaN if not known
     * @param savepointBytes the savepoint's size on disk; -1 if not known
     * @param firstScoreSeconds (re)submission to the first score of a request sent after it
     * @param runningSeconds (re)submission to every scorer subtask RUNNING (state restored); NaN if not seen
     * @param stateBytes the scorer's full state size in the first checkpoint after it; -1 if not known
     * @param p99Ms the p99 of all scores (probes left out) read in the window after the first score; -1 if none
     * @param maxMs the maximum of those; -1 if none
     */
    record Restart(double stopSeconds, double savepointSeconds, long savepointBytes, double firstScoreSeconds, double runningSeconds, long stateBytes,
                   long p99Ms, long maxMs) {}

    /** The model core's CPU per request on one thread in the bench's process, for the run's request mix. */
    record ModelCpu(double microsPerRequest, int window) {}

    /** The summary line. */
    static String line(String label, int users, String requestUsers, Measured m, ModelCpu model, Restart restore,
                       int rescaledTo, Restart rescale, Restart upgrade, long afterRestartSeconds) {
        Timeline.Stats l = m.latency();
        TaskManagerCpu cpu = m.cpu();
        List<Checkpoint> cps = m.checkpoints();
        StringBuilder s = new StringBuilder("cluster-bench");
        put(s, "config", label);
        put(s, "users", users);
        put(s, "seconds", "%.0f", m.seconds());
        put(s, "clicks_per_s", "%.0f", cpu.clicks() / m.seconds());
        put(s, "requests_per_s", "%.0f", cpu.requests() / m.seconds());
        put(s, "p50_ms_median", l.p50Median());
        put(s, "p99_ms_median", l.p99Median());
        put(s, "p99_ms_worst", l.p99Worst());
        put(s, "max_ms", l.max());
        put(s, "seconds_p99_over_30ms", l.secondsOverGoal());
        put(s, "checkpoints", cps.size());
        put(s, "sync_ms_median", median(cps, Checkpoint::syncMs));
        put(s, "sync_ms_max", cps.stream().mapToLong(Checkpoint::syncMs).max().orElse(-1));
        put(s, "async_ms_median", median(cps, Checkpoint::asyncMs));
        put(s, "async_ms_max", cps.stream().mapToLong(Checkpoint::asyncMs).max().orElse(-1));
        put(s, "checkpointed_mb_median", "%.1f", median(cps, Checkpoint::checkpointedBytes) / 1e6);
        put(s, "state_mb_last", "%.1f", cps.isEmpty() ? -1 : cps.get(0).stateBytes() / 1e6);
        put(s, "materializations", m.materializedAtS().size());
        put(s, "materialized_at_s", m.materializedAtS().isEmpty() ? "-"
                : m.materializedAtS().stream().map(String::valueOf).collect(Collectors.joining(",")));
        put(s, "tm_cpu_cores", "%.2f", cpu.cores());
        put(s, "tm_cpu_us_per_click", "%.1f", cpu.microsPerClick());
        put(s, "request_users", requestUsers);
        put(s, "tm_cpu_us_per_request", "%.1f", cpu.microsPerRequest());
        put(s, "tm_cpu_us_per_event", "%.1f", cpu.microsPerEvent());
        if (!Double.isNaN(cpu.idleCores())) {
            put(s, "tm_idle_cpu_cores", "%.3f", cpu.idleCores());
        }
        put(s, "tm_cpu_us_per_event_over_idle", "%.1f", cpu.microsPerEventOverIdle());
        if (model != null) {
            put(s, "model_cpu_us_per_request", "%.1f", model.microsPerRequest());
            put(s, "model_window", model.window());
        }
        if (restore != null) {
            restart(s, "restore", restore, afterRestartSeconds);
        }
        if (rescale != null) {
            put(s, "rescale_taskmanagers", rescaledTo);
            restart(s, "rescale", rescale, afterRestartSeconds);
        }
        if (upgrade != null) {
            restart(s, "upgrade", upgrade, afterRestartSeconds);
        }
        return s.toString();
    }

    private static void restart(StringBuilder s, String phase, Restart r, long afterSeconds) {
        if (!Double.isNaN(r.stopSeconds())) {
            put(s, phase + "_stop_s", "%.1f", r.stopSeconds());
        }
        if (!Double.isNaN(r.savepointSeconds())) {
            put(s, phase + "_savepoint_s", "%.1f", r.savepointSeconds());
        }
        if (r.savepointBytes() >= 0) {
            put(s, phase + "_savepoint_mb", "%.1f", r.savepointBytes() / 1e6);
        }
        if (!Double.isNaN(r.runningSeconds())) {
            put(s, phase + "_running_s", "%.1f", r.runningSeconds());
        }
        put(s, phase + "_first_score_s", "%.1f", r.firstScoreSeconds());
        if (r.stateBytes() >= 0) {
            put(s, phase + "_state_mb", "%.1f", r.stateBytes() / 1e6);
        }
        if (r.p99Ms() >= 0) {
            put(s, phase + "_p99_ms_" + afterSeconds + "s", r.p99Ms());
            put(s, phase + "_max_ms_" + afterSeconds + "s", r.maxMs());
        }
    }

    private static void put(StringBuilder s, String key, Object value) {
        s.append(' ').append(key).append('=').append(value);
    }

    private static void put(StringBuilder s, String key, String format, double value) {
        put(s, key, String.format(Locale.ROOT, format, value));
    }

    private static void put(StringBuilder s, String key, String format, OptionalDouble value) {
        if (value.isPresent()) {
            put(s, key, format, value.getAsDouble());
        }
    }

    private static long median(List<Checkpoint> checkpoints, ToLongFunction<Checkpoint> field) {
        return Timeline.median(checkpoints.stream().map(field::applyAsLong).sorted().toList());
    }
}

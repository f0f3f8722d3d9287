package io.dienflink.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dienflink.traffic.ScoreReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * {@code read-scores --latency}: the demo's per-second latency rows for a job running anywhere. A
 * score's latency is the time from its {@code request_time} (the producer's clock) to its arrival
 * at this reader, so producer, broker and reader clocks must agree (one machine, or NTP).
 */
final class ScoreLatency {
    private ScoreLatency() {}

    /**
     * Reads scores until {@code duration} has passed (null: until the process ends), printing
     * {@link Timeline#HEADER} and one row per second to {@code out}; at the end a summary line to
     * {@code err}: {@code latency seconds=<rows after the warm-up with scores> scores=<n>
     * p50_ms_median=<median of the per-second p50> p99_ms_median=<…> p99_ms_worst=<…> max_ms=<…>}.
     * The rows' {@code requests} column repeats {@code scores}: the reader sees no requests.
     */
    static int print(JobSettings.Kafka kafka, boolean fromBeginning, boolean readCommitted, Duration duration,
                     Duration warmup, String flinkRest, PrintWriter out, PrintWriter err) throws Exception {
        CheckpointMarks marks = flinkRest == null ? null : new CheckpointMarks(flinkRest);
        Timeline rows = new Timeline(Long.MAX_VALUE);
        ScoreReader reader = new ScoreReader(kafka.bootstrapServers(), kafka.client(), kafka.topics(), fromBeginning,
                readCommitted).start();
        // Ctrl-C ends a run without --duration: the summary is printed then
        Thread onStop = new Thread(() -> summary(rows, err), "latency-summary");
        Runtime.getRuntime().addShutdownHook(onStop);
        try {
            out.println(Timeline.HEADER);
            out.flush();
            follow(reader, rows, warmup, duration, marks, () -> { }, row -> {
                out.println(Timeline.csv(row));
                out.flush();
            });
        } finally {
            reader.close();
        }
        Runtime.getRuntime().removeShutdownHook(onStop);
        summary(rows, err);
        return 0;
    }

    /**
     * The per-second loop of {@code read-scores --latency} and {@code cluster-bench}: once a second,
     * the latencies {@code reader} recorded in it become a row of {@code rows} (phase "warmup"
     * during {@code warmup}, then "run"; checkpoint marked from {@code marks}, if any), handed to
     * {@code onRow}. {@code atWarmupEnd} runs once, just before the first "run" second is taken.
     * Returns when {@code duration} has passed (null: never).
     */
    static void follow(ScoreReader reader, Timeline rows, Duration warmup, Duration duration, CheckpointMarks marks,
                       Runnable atWarmupEnd, Consumer<Timeline.Row> onRow) throws InterruptedException {
        long start = System.nanoTime();
        long end = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
        long lastScores = 0; // the reader's count from its start: scores it read before this loop go into the first row
        for (long second = 1; start + second * 1_000_000_000L <= end; second++) {
            long wait = start + second * 1_000_000_000L - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            boolean warm = second * 1000 > warmup.toMillis();
            if (warm && (second - 1) * 1000 <= warmup.toMillis()) {
                atWarmupEnd.run();
            }
            Histogram h = reader.interval();
            long scores = reader.scores();
            boolean checkpointing = marks != null && marks.checkpointedSinceLastAsked();
            Timeline.Row row;
            synchronized (rows) {
                rows.add(second, scores - lastScores, scores - lastScores, h, checkpointing, warm ? "run" : "warmup", -1);
                row = rows.rows().get(rows.rows().size() - 1);
            }
            lastScores = scores;
            onRow.accept(row);
        }
    }

    /** Prints the summary once (at the end, or when the process is stopped with Ctrl-C). */
    private static void summary(Timeline timeline, PrintWriter err) {
        Timeline.Stats s;
        synchronized (timeline) {
            s = timeline.stats(Long.MAX_VALUE);
        }
        err.printf(Locale.ROOT, "latency seconds=%d scores=%d p50_ms_median=%d p99_ms_median=%d p99_ms_worst=%d max_ms=%d%n",
                s.seconds(), s.scores(), s.p50Median(), s.p99Median(), s.p99Worst(), s.max());
        err.flush();
    }

    /**
     * Whether the running job's checkpoint count changed, or one is in progress, per Flink's REST API
     * (the JobManager at {@code rest}); false while it does not answer.
     */
    static final class CheckpointMarks {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        private final String rest;
        private long lastTotal = -1;

        CheckpointMarks(String rest) {
            this.rest = rest.endsWith("/") ? rest.substring(0, rest.length() - 1) : rest;
        }

        boolean checkpointedSinceLastAsked() {
            try {
                String job = null;
                for (JsonNode j : get("/jobs/overview").path("jobs")) {
                    if ("RUNNING".equals(j.path("state").asText())) {
                        job = j.path("jid").asText();
                    }
                }
                if (job == null) {
                    return false;
                }
                JsonNode counts = get("/jobs/" + job + "/checkpoints").path("counts");
                long total = counts.path("total").asLong();
                boolean marked = (lastTotal >= 0 && total != lastTotal) || counts.path("in_progress").asLong() > 0;
                lastTotal = total;
                return marked;
            } catch (IOException e) {
                return false; // the JobManager is away (a restart): no mark, the latency rows go on
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        private JsonNode get(String path) throws IOException, InterruptedException {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(rest + path)).timeout(Duration.ofSeconds(2))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException(path + ": HTTP " + r.statusCode());
            }
            return JSON.readTree(r.body());
        }
    }
}

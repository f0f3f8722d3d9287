package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's run command as a user runs it, from a directory without the checkout (so the
 * bundle shipped inside the jar is used): one summary line on stdout, scores flowing, malformed
 * traffic dead-lettered, the web UI announced on stderr.
 */
class DemoJarITCase {
    private static final Pattern SUMMARY = Pattern.compile(
            "summary clicks=(\\d+) requests=(\\d+) scores=(\\d+) dead_letters=(\\d+) unscored=(\\d+) expired=(\\d+) "
                    + "p50_ms=(\\d+) p99_ms=(\\d+) max_ms=(\\d+) recovered_after_s=(-1|\\d+\\.\\d+)");

    @TempDir
    Path tmp;

    @Test
    void demoRunsEmbeddedAndEndsWithOneSummaryLine() throws Exception {
        Path jar = Path.of(System.getProperty("dien.jar", "target/dien-flink.jar")).toAbsolutePath();
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        // The outage starts 10 s in: each status second also asks the job's REST API about checkpoints,
        // and on a loaded CI machine the first seconds' rows came too late for a "run" row before a 6 s outage.
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-jar", jar.toString(), "demo", "--duration", "28s",
                "--clicks-per-second", "1000", "--requests-per-second", "50", "--malformed", "0.02",
                "--outage-at", "10s", "--outage", "4s", "--timeline", "timeline.csv")
                .directory(tmp.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(240, TimeUnit.SECONDS)).as("demo finishes").isTrue();
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(stderr).isZero();
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertThat(lines).as("stdout").hasSize(1);
        Matcher m = SUMMARY.matcher(lines.get(0));
        assertThat(m.matches()).as(lines.get(0)).isTrue();
        long requests = Long.parseLong(m.group(2));
        long scores = Long.parseLong(m.group(3));
        assertThat(Long.parseLong(m.group(1))).isGreaterThan(5_000);
        assertThat(scores).isPositive().isLessThanOrEqualTo(requests);
        assertThat(Long.parseLong(m.group(4))).as("dead letters of the 2 % malformed traffic").isPositive();
        long unscored = Long.parseLong(m.group(5));
        long expired = Long.parseLong(m.group(6));
        assertThat(unscored).as("valid requests without a score are all expired ones").isEqualTo(expired);
        assertThat(stderr).contains("Flink web UI: http://localhost:").contains("clicks/s=")
                .contains("Outage: job stopped with savepoint").contains("Outage: job resubmitted from the savepoint");

        // the outage shows in the timeline: seconds without the job, then scores again after the restart
        List<Timeline.Row> rows = Timeline.read(tmp.resolve("timeline.csv"));
        assertThat(rows).extracting(Timeline.Row::phase).contains("run", "down", "resumed");
        int firstResumed = rows.stream().map(Timeline.Row::phase).toList().indexOf("resumed");
        assertThat(rows.subList(firstResumed, rows.size())).as("seconds after the restart").anyMatch(r -> r.scores() > 0);
        assertThat(rows).as("a second without scores while the job is down")
                .anyMatch(r -> r.phase().equals("down") && r.scores() == 0);

        // and plot-timeline draws it
        Path png = tmp.resolve("timeline.png");
        CliRun plot = CliRun.of("plot-timeline", "-o", png.toString(), tmp.resolve("timeline.csv") + "=outage");
        assertThat(plot.exit()).as(plot.err()).isZero();
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(1200);
        assertThat(image.getHeight()).isEqualTo(320);
    }
}

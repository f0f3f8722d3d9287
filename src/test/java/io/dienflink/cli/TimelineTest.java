package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TimelineTest {
    @TempDir
    Path tmp;

    private static Histogram latencies(long... ms) {
        Histogram h = new Histogram(3);
        for (long v : ms) {
            h.recordValue(v);
        }
        return h;
    }

    @Test
    void statsCoverTheSecondsAfterTheWarmupThatHaveScores() {
        Timeline t = new Timeline(30);
        t.add(1, 3, 3, latencies(500, 500, 500), false, "warmup", -1); // left out: warm-up
        t.add(2, 2, 2, latencies(10, 40), true, "run", -1);             // p50 10, p99 40, max 40
        t.add(3, 0, 0, new Histogram(3), false, "run", -1);             // left out: no score
        t.add(4, 1, 1, latencies(20), false, "run", -1);                // p50 = p99 = max = 20
        t.add(5, 1, 1, latencies(70), false, "run", -1);                // 70
        Timeline.Stats s = t.stats(30);
        assertThat(s.seconds()).isEqualTo(3);
        assertThat(s.scores()).isEqualTo(4);
        // the per-second p50s are 10, 20, 70 and the p99s 20, 40, 70 (HdrHistogram keeps 3 digits)
        assertThat(s.p50Median()).isEqualTo(20);
        assertThat(s.p99Median()).isEqualTo(40);
        assertThat(s.p99Worst()).isEqualTo(70);
        assertThat(s.max()).isEqualTo(70);
        assertThat(s.secondsOverGoal()).isEqualTo(2);
        assertThat(new Timeline(30).stats(30).p99Median()).isEqualTo(-1);
    }

    @Test
    void recoveryStartsAtTheFirstOfFiveGoodSecondsAfterTheResubmission() {
        Timeline t = new Timeline(30);
        t.add(1, 10, 10, latencies(5, 8), false, "run", -1);
        t.add(2, 10, 10, latencies(5, 8), false, "run", -1);   // good, but before the outage
        t.add(3, 10, 0, new Histogram(3), false, "down", -1);
        t.add(4, 10, 0, new Histogram(3), false, "down", 3.5);  // resubmitted at 3.5 s
        t.add(5, 10, 10, latencies(900), false, "resumed", 3.5);
        for (int s = 6; s <= 9; s++) {
            t.add(s, 10, 10, latencies(10, 20), false, "resumed", 3.5);
        }
        t.add(10, 10, 10, latencies(31), false, "resumed", 3.5); // breaks the run that started at 6
        for (int s = 11; s <= 15; s++) {
            t.add(s, 10, 10, latencies(10, 20), false, "resumed", 3.5);
        }
        // second 11 covers (10 s, 11 s]: recovered 10 - 3.5 = 6.5 s after the resubmission
        assertThat(t.recoveredAfterSeconds()).isEqualTo(6.5);
    }

    @Test
    void noRecoveryWithoutAResubmissionOrWithoutFiveGoodSeconds() {
        Timeline never = new Timeline(30);
        for (int s = 1; s <= 10; s++) {
            never.add(s, 10, 10, latencies(5), false, "run", -1);
        }
        assertThat(never.recoveredAfterSeconds()).isEqualTo(-1);

        Timeline slow = new Timeline(30);
        slow.add(1, 10, 0, new Histogram(3), false, "down", 0.5);
        for (int s = 2; s <= 10; s++) {
            slow.add(s, 10, 10, latencies(s % 4 == 0 ? 50 : 5), false, "resumed", 0.5);
        }
        assertThat(slow.recoveredAfterSeconds()).isEqualTo(-1);
    }

    @Test
    void writesAndReadsItsCsv() throws IOException {
        Timeline t = new Timeline(30);
        t.add(1, 200, 198, latencies(3, 7, 40), true, "run", -1);
        Path file = tmp.resolve("t.csv");
        t.write(file);
        assertThat(Timeline.read(file)).containsExactly(new Timeline.Row(1, 200, 198, 7, 40, 40, true, "run"));
    }

    @Test
    void rejectsAFileThatIsNoTimeline() throws IOException {
        Path file = tmp.resolve("other.csv");
        Files.writeString(file, "a,b\n1,2\n");
        assertThatThrownBy(() -> Timeline.read(file)).hasMessageContaining("not a demo timeline");
        Files.writeString(file, Timeline.HEADER + "\n1,2,3\n");
        assertThatThrownBy(() -> Timeline.read(file)).hasMessageContaining("line 2: expected 8 fields, found 3");
    }
}

package io.dienflink.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import io.dienflink.job.DienJobConfig;
import io.dienflink.local.EmbeddedKafkaCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RunVerifier} on runs written by hand to a real broker ({@link RecordedRun}): a consistent
 * run passes, and each kind of broken output is found and counted where it belongs. No job runs,
 * so probes are off.
 */
class RunVerifierTest {
    /** Short: in the runs with a missing score or dead letter, nothing more is coming. */
    private static final RunVerifier.Options OPTIONS = new RunVerifier.Options(false, Duration.ofSeconds(1));
    private static final AtomicInteger RUNS = new AtomicInteger();

    private static EmbeddedKafkaCluster kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaCluster.start(null);
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    private static RecordedRun run() throws Exception {
        return RecordedRun.write(kafka, "run" + RUNS.incrementAndGet());
    }

    private static VerifyReport verify(RecordedRun run, String guarantee) throws Exception {
        return RunVerifier.verify(run.config(guarantee), OPTIONS);
    }

    @Test
    void aConsistentRunIsOk() throws Exception {
        RecordedRun run = run();
        run.publish();
        for (String guarantee : List.of("AT_LEAST_ONCE", "EXACTLY_ONCE")) {
            VerifyReport r = verify(run, guarantee);
            assertThat(r.ok()).as(r.line() + " " + r.violations()).isTrue();
            assertThat(r.violations()).isEmpty();
            assertThat(r.requests()).isEqualTo(run.validRequests).isEqualTo(8);
            assertThat(r.scored()).isEqualTo(8);
            assertThat(r.malformed()).isEqualTo(run.invalidRecords).isEqualTo(4);
            assertThat(r.deadLetters()).isEqualTo(4);
            assertThat(r.line()).isEqualTo("verify requests=8 scored=8 missing=0 duplicates=0 wrong=0 dead_letters=4"
                    + " expired=0 malformed=4 dead_letters_missing=0 dead_letters_doubled=0 unexpected=0 windows_wrong=0 ok=true");
        }
    }

    @Test
    void aRequestAnsweredAsExpiredInsteadOfScoredIsNoViolation() throws Exception {
        RecordedRun run = run();
        run.deadLetters.add(run.expiredDeadLetter(2));
        run.scores.remove(2);
        run.publish();
        for (String guarantee : List.of("AT_LEAST_ONCE", "EXACTLY_ONCE")) {
            VerifyReport r = verify(run, guarantee);
            assertThat(r.ok()).as(r.line() + " " + r.violations()).isTrue();
            assertThat(r.expired()).isEqualTo(1);
            assertThat(r.scored()).isEqualTo(7);
            assertThat(r.missing()).isZero();
            assertThat(r.deadLetters()).isEqualTo(5);
        }
    }

    @Test
    void aRequestBothScoredAndExpiredIsAnsweredTwice() throws Exception {
        RecordedRun run = run();
        run.deadLetters.add(run.expiredDeadLetter(3)); // and its score stays: answered twice
        run.publish();
        VerifyReport atLeastOnce = verify(run, "AT_LEAST_ONCE");
        assertThat(atLeastOnce.ok()).as(atLeastOnce.line()).isTrue();
        assertThat(atLeastOnce.duplicates()).isEqualTo(1);
        VerifyReport exactlyOnce = verify(run, "EXACTLY_ONCE");
        assertThat(exactlyOnce.ok()).isFalse();
        assertThat(exactlyOnce.duplicates()).isEqualTo(1);
    }

    @Test
    void aMissingScoreIsFound() throws Exception {
        RecordedRun run = run();
        CtrScore dropped = run.scores.remove(2);
        run.publish();
        VerifyReport r = verify(run, "AT_LEAST_ONCE");
        assertThat(r.ok()).isFalse();
        assertThat(r.missing()).isEqualTo(1);
        assertThat(r.scored()).isEqualTo(7);
        assertThat(r.violations()).singleElement().asString().contains("no score for request " + dropped.getRequestId());
    }

    @Test
    void aDoubledScoreIsAViolationOnlyUnderExactlyOnce() throws Exception {
        RecordedRun run = run();
        run.scores.add(CtrScore.newBuilder(run.scores.get(1)).build());
        run.publish();
        VerifyReport atLeastOnce = verify(run, "AT_LEAST_ONCE");
        assertThat(atLeastOnce.ok()).as(atLeastOnce.violations().toString()).isTrue();
        assertThat(atLeastOnce.duplicates()).isEqualTo(1);
        VerifyReport exactlyOnce = verify(run, "EXACTLY_ONCE");
        assertThat(exactlyOnce.ok()).isFalse();
        assertThat(exactlyOnce.duplicates()).isEqualTo(1);
        assertThat(exactlyOnce.violations()).singleElement().asString().contains("2 committed answers (2 scores, 0 expired) for request "
                + run.scores.get(1).getRequestId());
    }

    @Test
    void aCtrOffBy1e4IsWrong() throws Exception {
        RecordedRun run = run();
        CtrScore s = run.scores.get(3); // the heavy user after all its clicks: a full window
        List<CandidateScore> changed = new ArrayList<>(s.getScores());
        CandidateScore c = changed.get(1);
        changed.set(1, new CandidateScore(c.getItemId(), c.getCtr() + 1e-4f));
        s.setScores(changed);
        run.publish();
        VerifyReport r = verify(run, "AT_LEAST_ONCE");
        assertThat(r.ok()).isFalse();
        assertThat(r.wrong()).isEqualTo(1);
        assertThat(r.violations()).singleElement().asString().contains(s.getRequestId()).contains("ctr[1]");
    }

    @Test
    void clicksAppliedOffByOneIsWrong() throws Exception {
        RecordedRun run = run();
        CtrScore s = run.scores.get(1); // the heavy user after 10 clicks
        // claims one click fewer, consistently: only the recomputed CTRs can tell
        s.setClicksApplied(s.getClicksApplied() - 1);
        s.setHistoryLength(s.getHistoryLength() - 1);
        run.publish();
        VerifyReport r = verify(run, "AT_LEAST_ONCE");
        assertThat(r.ok()).isFalse();
        assertThat(r.wrong()).isEqualTo(1);
        assertThat(r.violations()).singleElement().asString().contains(s.getRequestId()).contains("clicks_applied 9");
    }

    @Test
    void moreClicksAppliedThanExistIsWrong() throws Exception {
        RecordedRun run = run();
        CtrScore s = run.scores.get(3); // the heavy user after all its distinct clicks
        s.setClicksApplied(s.getClicksApplied() + 1);
        run.publish();
        VerifyReport r = verify(run, "AT_LEAST_ONCE");
        assertThat(r.wrong()).isEqualTo(1);
        assertThat(r.violations()).singleElement().asString().contains("but the user has 26 distinct clicks");
    }

    @Test
    void aMissingDeadLetterIsFound() throws Exception {
        RecordedRun run = run();
        DeadLetter dropped = run.deadLetters.remove(0);
        run.publish();
        VerifyReport r = verify(run, "AT_LEAST_ONCE");
        assertThat(r.ok()).isFalse();
        assertThat(r.deadLettersMissing()).isEqualTo(1);
        assertThat(r.deadLetters()).isEqualTo(3);
        assertThat(r.violations()).singleElement().asString().contains("no dead letter for invalid record "
                + dropped.getSourceTopic() + "/" + dropped.getPartition() + "@" + dropped.getOffset());
    }

    @Test
    void aDeadLetterWithTheWrongReasonIsMissing() throws Exception {
        RecordedRun run = run();
        run.deadLetters.get(1).setReason("undecodable"); // the click of user 0: missing_user_id
        run.publish();
        VerifyReport r = verify(run, "AT_LEAST_ONCE");
        assertThat(r.ok()).isFalse();
        assertThat(r.deadLettersMissing()).isEqualTo(1);
        assertThat(r.violations()).singleElement().asString().contains("has reason [undecodable], expected missing_user_id");
    }

    @Test
    void aDoubledDeadLetterIsAViolationOnlyUnderExactlyOnce() throws Exception {
        RecordedRun run = run();
        run.deadLetters.add(DeadLetter.newBuilder(run.deadLetters.get(2)).build());
        run.publish();
        VerifyReport atLeastOnce = verify(run, "AT_LEAST_ONCE");
        assertThat(atLeastOnce.ok()).isTrue();
        assertThat(atLeastOnce.deadLettersDoubled()).isEqualTo(1);
        VerifyReport exactlyOnce = verify(run, "EXACTLY_ONCE");
        assertThat(exactlyOnce.ok()).isFalse();
        assertThat(exactlyOnce.deadLettersDoubled()).isEqualTo(1);
    }

    @Test
    void anUnexpectedScoreIsFound() throws Exception {
        RecordedRun run = run();
        run.scores.add(CtrScore.newBuilder(run.scores.get(0)).setRequestId("ghost").build());
        run.publish();
        VerifyReport r = verify(run, "AT_LEAST_ONCE");
        assertThat(r.ok()).isFalse();
        assertThat(r.unexpected()).isEqualTo(1);
        assertThat(r.violations()).singleElement().asString().contains("for request ghost");
    }

    @Test
    void probesAnsweredWithEveryClickAppliedAreOk() throws Exception {
        RecordedRun run = run();
        run.publish();
        VerifyReport r;
        try (ProbeResponder job = new ProbeResponder(run, kafka.bootstrapServers(), 0)) {
            r = RunVerifier.verify(run.config("AT_LEAST_ONCE"), new RunVerifier.Options(true, Duration.ofSeconds(30)));
        }
        assertThat(r.ok()).as(r.line() + " " + r.violations()).isTrue();
        assertThat(r.requests()).isEqualTo(run.validRequests + run.usersWithClicks()).isEqualTo(10);
        assertThat(r.scored()).isEqualTo(10);
    }

    @Test
    void aProbeAnsweredBeforeTheJobAppliedEveryClickIsAskedAgain() throws Exception {
        RecordedRun run = run();
        run.publish();
        VerifyReport r;
        // the first probe of each user overtakes the user's last click; the second finds it applied
        try (ProbeResponder job = new ProbeResponder(run, kafka.bootstrapServers(), -1, 0)) {
            r = RunVerifier.verify(run.config("AT_LEAST_ONCE"), new RunVerifier.Options(true, Duration.ofSeconds(30)));
        }
        assertThat(r.ok()).as(r.line() + " " + r.violations()).isTrue();
        assertThat(r.windowsWrong()).isZero();
        assertThat(r.requests()).isEqualTo(run.validRequests + 2 * run.usersWithClicks());
        assertThat(r.scored()).isEqualTo(r.requests());
    }

    @Test
    void aProbeAnsweredWithAClickMissingIsAWrongWindow() throws Exception {
        RecordedRun run = run();
        run.publish();
        VerifyReport r;
        // a job that lost a click answers every probe so, however often it is asked until the timeout
        try (ProbeResponder job = new ProbeResponder(run, kafka.bootstrapServers(), -1)) {
            r = RunVerifier.verify(run.config("AT_LEAST_ONCE"), new RunVerifier.Options(true, Duration.ofSeconds(4)));
        }
        assertThat(r.ok()).isFalse();
        assertThat(r.requests()).as("asked again").isGreaterThan(run.validRequests + 2L * run.usersWithClicks());
        // the scores themselves are right for the clicks they claim: only the window is short
        assertThat(r.wrong()).isZero();
        assertThat(r.windowsWrong()).isEqualTo(2);
        assertThat(r.violations()).hasSize(2).allSatisfy(v -> assertThat(v).contains("clicks_applied expected"));
    }

    @Test
    void anUnansweredProbeIsMissingAndAWrongWindow() throws Exception {
        RecordedRun run = run();
        run.publish();
        VerifyReport r = RunVerifier.verify(run.config("AT_LEAST_ONCE"), new RunVerifier.Options(true, Duration.ofSeconds(1)));
        assertThat(r.ok()).isFalse();
        assertThat(r.missing()).isEqualTo(2);
        assertThat(r.windowsWrong()).isEqualTo(2);
    }

    @Test
    void aScoresTopicThatDoesNotExistMissesEveryScore() throws Exception {
        RecordedRun run = run();
        run.publish();
        Configuration conf = new Configuration();
        run.settings("AT_LEAST_ONCE").forEach(conf::setString);
        conf.setString("dien.topic.scores", "no-such-scores-" + RUNS.incrementAndGet());
        VerifyReport r = RunVerifier.verify(DienJobConfig.from(conf), OPTIONS);
        assertThat(r.missing()).isEqualTo(run.validRequests);
        assertThat(r.deadLettersMissing()).isZero();
    }
}

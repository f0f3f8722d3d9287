package io.dienflink.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.CtrScore;
import io.dienflink.model.GoldenCases;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The challenger operator ({@link ShadowScorer} under Flink's async operator, as {@link ShadowStage}
 * runs it) with a slow and with a failing bundle B: the operator takes every input at once (so the
 * scorer upstream is never back-pressured), what B cannot take is dropped and counted, B's
 * exceptions are counted and never fail the operator, and every handed-off request ends in exactly
 * one outcome.
 */
class ShadowScorerTest {
    private static final String B = GoldenCases.bundleDir("torch").toString();
    private static final int REQUESTS = 60;

    /** B that takes {@code delayMs} per request, or throws. */
    private static final class BrokenB extends ShadowScorer {
        private final long delayMs;
        private final boolean fail;

        BrokenB(int threads, int queue, long delayMs, boolean fail) {
            super(B, null, threads, queue);
            this.delayMs = delayMs;
            this.fail = fail;
        }

        @Override
        protected CtrScore score(ShadowRequest request) {
            if (fail) {
                throw new IllegalStateException("challenger broken on purpose");
            }
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return super.score(request);
        }
    }

    private static OneInputStreamOperatorTestHarness<ShadowRequest, CtrScore> harness(ShadowScorer f) throws Exception {
        var h = new OneInputStreamOperatorTestHarness<>(new AsyncWaitOperatorFactory<>(f, ShadowStage.TIMEOUT_MS,
                f.operatorCapacity(), AsyncDataStream.OutputMode.UNORDERED),
                TypeInformation.of(ShadowRequest.class).createSerializer(new SerializerConfigImpl()));
        h.open();
        return h;
    }

    private static ShadowRequest request(int i) {
        long[] history = {1000, 2000, 3000};
        return new ShadowRequest("r" + i, 1000, 1_700_000_000_000L, new long[] {1000, 2000}, new long[] {1000, 1000},
                history, new long[] {1000, 1000, 2000}, 3);
    }

    @Test
    void theHandOffTypeIsNotAGenericKryoType() {
        // the job runs with pipeline.generic-types: false, and in-flight requests are checkpointed
        assertThat(TypeInformation.of(ShadowRequest.class)).isNotInstanceOf(GenericTypeInfo.class);
    }

    @Test
    void aSlowChallengerNeverHoldsUpItsInputAndCountsWhatItDrops() throws Exception {
        // one thread, a queue of 2, 200 ms per request: a challenger far slower than its input
        BrokenB slow = new BrokenB(1, 2, 200, false);
        try (var h = harness(slow)) {
            long start = System.nanoTime();
            for (int i = 0; i < REQUESTS; i++) {
                h.processElement(request(i), i);
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            // waiting for B would take 60 × 200 ms; the operator only hands off
            assertThat(tookMs).as("time to take %d requests", REQUESTS).isLessThan(2_000);
            h.endInput(); // waits for the requests B accepted
            List<CtrScore> scored = h.extractOutputValues();
            ShadowScorer.Outcomes o = slow.outcomes();
            assertThat(o.dropped()).as(o.toString()).isGreaterThanOrEqualTo(REQUESTS - 3 - 2);
            assertThat(o.scored()).isEqualTo(scored.size()).isBetween(1L, 5L);
            assertThat(o.failed()).isZero();
            assertThat(o.scored() + o.dropped() + o.failed() + o.timedOut()).isEqualTo(REQUESTS);
            assertThat(scored).allSatisfy(s -> assertThat(s.getModelFingerprint().toString())
                    .isEqualTo(GoldenCases.bundle("torch").fingerprint()));
        }
    }

    @Test
    void aFailingChallengerIsCountedAndNeverFailsTheOperator() throws Exception {
        BrokenB broken = new BrokenB(2, 1_000, 0, true);
        try (var h = harness(broken)) {
            for (int i = 0; i < REQUESTS; i++) {
                h.processElement(request(i), i);
            }
            h.endInput();
            assertThat(h.extractOutputValues()).isEmpty();
            ShadowScorer.Outcomes o = broken.outcomes();
            assertThat(o.failed()).isEqualTo(REQUESTS);
            assertThat(o.scored() + o.dropped() + o.timedOut()).isZero();
        }
    }

    @Test
    void aHealthyChallengerScoresEveryRequestItCanTake() throws Exception {
        ShadowScorer healthy = new ShadowScorer(B, GoldenCases.bundle("torch").fingerprint(), 1, REQUESTS);
        try (var h = harness(healthy)) {
            for (int i = 0; i < REQUESTS; i++) {
                h.processElement(request(i), i);
            }
            h.endInput();
            assertThat(h.extractOutputValues()).hasSize(REQUESTS)
                    .extracting(s -> s.getRequestId().toString()).doesNotHaveDuplicates();
            assertThat(healthy.outcomes()).isEqualTo(new ShadowScorer.Outcomes(REQUESTS, 0, 0, 0));
        }
    }

    @Test
    void aChallengerOfAnotherBundleThanSubmittedRefusesToStart() {
        ShadowScorer wrong = new ShadowScorer(B, "0123", 1, 10);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> harness(wrong))
                .hasStackTraceContaining("dien.shadow.model");
    }
}

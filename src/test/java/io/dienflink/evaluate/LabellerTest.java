package io.dienflink.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.Candidate;
import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.HistoryClick;
import io.dienflink.avro.Impression;
import io.dienflink.avro.ServingLog;
import io.dienflink.kafka.AvroMessages;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The labelling rules of docs/evaluation.md on {@link Labeller} in Flink's keyed operator harness
 * (RocksDB backend, event-time timers driven by watermarks). Expected labels come from the rule as
 * the docs state it: positive iff the user clicked the item at r ≤ t ≤ r + W, decided when the
 * watermark reaches r + W.
 */
class LabellerTest {
    static final long W = 60_000;
    static final long USER = 7;
    static final long T0 = 1_800_000_000_000L; // a minute boundary (divisible by 60,000)

    private KeyedOneInputStreamOperatorTestHarness<Long, EvalEvent, Labelled> harness;

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    private KeyedOneInputStreamOperatorTestHarness<Long, EvalEvent, Labelled> open(int maxPending, boolean impressions,
                                                                                  OperatorSubtaskState restore) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new Labeller(W, maxPending, impressions)), (EvalEvent e) -> e.userId, Types.LONG);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    static EvalEvent score(String request, long time, String fingerprint, boolean challenger, long[] items, float[] ctr) {
        List<CandidateScore> s = new ArrayList<>();
        for (int i = 0; i < items.length; i++) {
            s.add(new CandidateScore(items[i], ctr[i]));
        }
        return EvalEvent.score(new CtrScore(request, USER, "v-" + fingerprint, fingerprint, s, 3, 3L,
                Instant.ofEpochMilli(time), Instant.ofEpochMilli(time + 5)), challenger);
    }

    static EvalEvent click(long item, long time) {
        return EvalEvent.click(new ClickEvent("c" + item + "@" + time, USER, item, item / 100, Instant.ofEpochMilli(time)));
    }

    static EvalEvent impression(String request, long time, long... shown) {
        return EvalEvent.impression(new Impression(request, USER, Instant.ofEpochMilli(time),
                Arrays.stream(shown).boxed().toList()));
    }

    static EvalEvent servingLog(String request, long time, long[] items, float[] ctr) {
        List<Candidate> c = Arrays.stream(items).mapToObj(i -> new Candidate(i, i / 100)).toList();
        List<Float> s = new ArrayList<>();
        for (float f : ctr) {
            s.add(f);
        }
        ServingLog log = new ServingLog(request, USER, Instant.ofEpochMilli(time), Instant.ofEpochMilli(time + 5), "v-A", "A",
                2L, List.of(new HistoryClick(100L, 1L), new HistoryClick(200L, 2L)), c, s, List.of());
        return EvalEvent.servingLog(log, AvroMessages.encode(log));
    }

    private void in(EvalEvent e) throws Exception {
        harness.processElement(new StreamRecord<>(e, e.time));
    }

    /** Labels emitted so far, by "fingerprint/item". */
    private Map<String, Integer> labels() {
        return harness.extractOutputValues().stream().filter(l -> l.dropped == 0)
                .collect(Collectors.toMap(l -> l.fingerprint + "/" + l.itemId, l -> l.label));
    }

    @Test
    void aClickWithinTheWindowIsPositiveBeforeOrAfterItIsNot() throws Exception {
        harness = open(100, false, null);
        long r = T0 + 10_000;
        in(score("r1", r, "A", false, new long[] {1, 2, 3, 4, 5}, new float[] {.1f, .2f, .3f, .4f, .5f}));
        in(click(1, r + 2_000));          // within
        in(click(2, r - 1));              // before the request
        in(click(3, r + W + 1));          // after the window
        in(click(4, r));                  // at the request: counts
        in(click(5, r + W));              // at the window's end: counts
        harness.processWatermark(new Watermark(r + W - 1));
        assertThat(harness.extractOutputValues()).as("not final before the window closed").isEmpty();
        harness.processWatermark(new Watermark(r + W));
        assertThat(labels()).isEqualTo(Map.of("A/1", 1, "A/2", 0, "A/3", 0, "A/4", 1, "A/5", 1));
        Labelled first = harness.extractOutputValues().get(0);
        assertThat(first.minute).isEqualTo(T0);
        assertThat(first.requestId).isEqualTo("r1");
        assertThat(Float.isNaN(first.championScore)).isTrue();
    }

    @Test
    void aClickReadBeforeItsScoreStillCounts() throws Exception {
        harness = open(100, false, null);
        long r = T0;
        in(click(9, r + 100)); // the clicks topic is ahead of the scores topic
        in(score("r1", r, "A", false, new long[] {9, 8}, new float[] {.6f, .1f}));
        harness.processWatermark(new Watermark(r + W));
        assertThat(labels()).isEqualTo(Map.of("A/9", 1, "A/8", 0));
    }

    @Test
    void withoutAnyClickTheWindowsCloseNegative() throws Exception {
        harness = open(100, false, null);
        in(score("r1", T0, "A", false, new long[] {1, 2}, new float[] {.5f, .5f}));
        in(score("r2", T0 + 30_000, "A", false, new long[] {3}, new float[] {.5f}));
        harness.processWatermark(new Watermark(T0 + W));
        assertThat(labels()).isEqualTo(Map.of("A/1", 0, "A/2", 0));
        harness.processWatermark(new Watermark(T0 + 30_000 + W));
        assertThat(labels()).isEqualTo(Map.of("A/1", 0, "A/2", 0, "A/3", 0));
    }

    @Test
    void withImpressionsOnlyShownCandidatesAreLabelled() throws Exception {
        harness = open(100, true, null);
        in(score("r1", T0, "A", false, new long[] {1, 2, 3}, new float[] {.1f, .2f, .3f}));
        in(servingLog("r1", T0, new long[] {1, 2, 3}, new float[] {.1f, .2f, .3f}));
        in(impression("r1", T0 + 20, 1, 2));
        in(score("r2", T0 + 5, "A", false, new long[] {4}, new float[] {.4f})); // never shown: no impression
        in(click(2, T0 + 1_000));
        in(click(3, T0 + 1_000)); // clicked but not shown: not labelled
        harness.processWatermark(new Watermark(T0 + 5 + W));
        assertThat(labels()).isEqualTo(Map.of("A/1", 0, "A/2", 1));
        List<ServingLog> logs = harness.getSideOutput(Labeller.LABELLED_LOG).stream().map(StreamRecord::getValue).toList();
        assertThat(logs).hasSize(1);
        assertThat(logs.get(0).getLabels()).containsExactly(0, 1, Attribution.NOT_SHOWN);
        assertThat(logs.get(0).getHistory()).hasSize(2); // the record otherwise as read
    }

    @Test
    void theServingLogCarriesTheChampionsLabelsAndTheChallengerIsPaired() throws Exception {
        harness = open(100, false, null);
        long[] items = {11, 12, 13, 14};
        in(score("r1", T0, "A", false, items, new float[] {.1f, .2f, .3f, .4f}));
        in(score("r1", T0, "B", true, new long[] {14, 13, 12, 11}, new float[] {.9f, .8f, .7f, .6f}));
        in(servingLog("r1", T0, items, new float[] {.1f, .2f, .3f, .4f}));
        in(click(12, T0 + 10));
        in(click(14, T0 + 20));
        harness.processWatermark(new Watermark(T0 + W));
        List<Labelled> out = harness.extractOutputValues();
        Map<Long, Integer> champion = out.stream().filter(l -> !l.challenger).collect(Collectors.toMap(l -> l.itemId, l -> l.label));
        assertThat(champion).isEqualTo(Map.of(11L, 0, 12L, 1, 13L, 0, 14L, 1));
        List<ServingLog> logs = harness.getSideOutput(Labeller.LABELLED_LOG).stream().map(StreamRecord::getValue).toList();
        assertThat(logs).hasSize(1);
        List<Integer> inCandidateOrder = Arrays.stream(items).mapToObj(champion::get).toList();
        assertThat(logs.get(0).getLabels()).isEqualTo(inCandidateOrder);
        Map<Long, Float> pairedChampion = out.stream().filter(l -> l.challenger)
                .collect(Collectors.toMap(l -> l.itemId, l -> l.championScore));
        assertThat(pairedChampion).isEqualTo(Map.of(11L, .1f, 12L, .2f, 13L, .3f, 14L, .4f));
        assertThat(out.stream().filter(l -> l.challenger).collect(Collectors.toMap(l -> l.itemId, l -> l.label)))
                .isEqualTo(champion);
    }

    @Test
    void aFullPendingSetDropsTheOldestAndCountsIt() throws Exception {
        harness = open(2, false, null);
        in(score("r2", T0 + 2_000, "A", false, new long[] {2}, new float[] {.2f}));
        in(score("r1", T0 + 1_000, "A", false, new long[] {1, 1, 1}, new float[] {.1f, .1f, .1f}));
        in(score("r1", T0 + 1_000, "B", true, new long[] {1}, new float[] {.3f}));
        in(score("r3", T0 + 3_000, "A", false, new long[] {3}, new float[] {.3f})); // drops r1 (oldest), both models
        List<Labelled> markers = harness.extractOutputValues().stream().filter(l -> l.dropped > 0).toList();
        assertThat(markers).extracting(l -> l.fingerprint + "/" + l.requestId + "/" + l.dropped + "/" + l.minute)
                .containsExactlyInAnyOrder("A/r1/3/" + T0, "B/r1/1/" + T0);
        in(score("r0", T0, "A", false, new long[] {0, 0}, new float[] {.1f, .1f})); // older than all: dropped itself
        assertThat(harness.extractOutputValues().stream().filter(l -> l.dropped > 0).map(l -> l.requestId)).contains("r0");
        in(click(1, T0 + 1_500));
        harness.processWatermark(new Watermark(T0 + 3_000 + W));
        assertThat(harness.extractOutputValues().stream().filter(l -> l.dropped == 0).map(l -> l.requestId))
                .containsExactlyInAnyOrder("r2", "r3");
    }

    @Test
    void lateAndRepeatedScoresAreNotLabelledAgain() throws Exception {
        harness = open(100, false, null);
        in(score("r1", T0, "A", false, new long[] {1}, new float[] {.1f}));
        in(score("r1", T0, "A", false, new long[] {1}, new float[] {.1f})); // an at-least-once repeat
        harness.processWatermark(new Watermark(T0 + W));
        in(score("late", T0, "A", false, new long[] {2}, new float[] {.1f})); // its window closed before it came
        harness.processWatermark(new Watermark(T0 + 3 * W));
        assertThat(harness.extractOutputValues()).extracting(l -> l.requestId).containsExactly("r1");
    }

    @Test
    void pendingRequestsAndClicksSurviveARestore() throws Exception {
        harness = open(100, false, null);
        in(score("r1", T0, "A", false, new long[] {1, 2}, new float[] {.1f, .2f}));
        in(click(2, T0 + 5));
        OperatorSubtaskState snapshot = harness.snapshot(1, T0 + 10);
        harness.close();
        harness = open(100, false, snapshot);
        harness.processWatermark(new Watermark(T0 + W));
        assertThat(labels()).isEqualTo(Map.of("A/1", 0, "A/2", 1));
    }
}

package io.dienflink.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.Candidate;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.HistoryClick;
import io.dienflink.avro.ServingLog;
import io.dienflink.job.Click;
import io.dienflink.job.DedupPolicy;
import io.dienflink.job.InterestScorer;
import io.dienflink.job.ScoreRequest;
import io.dienflink.model.GoldenCases;
import io.dienflink.model.ModelBundle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The scorer's hand-off ({@link ServingHandOff}) in Flink's operator harness on RocksDB: which
 * requests are handed off (a deterministic, independent share of the request ids, the same after a
 * restore), and what: the window of raw click ids equal to the clicks the user sent (the newest T),
 * the serving-log record equal to the score the scorer emitted.
 */
class ServingHandOffTest {
    private static final String BUNDLE = "official"; // T = 20
    private static final int USERS = 8;
    private static final int REQUESTS = 3_000;
    private final ModelBundle bundle = GoldenCases.bundle(BUNDLE);
    private final int maxHistory = bundle.config().maxHistory();

    /** What one harness run emitted. */
    private record Run(Map<String, CtrScore> scores, Map<String, ShadowRequest> shadow, Map<String, ServingLog> log) {}

    private KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> open(double shadowShare,
            double logShare, OperatorSubtaskState restore) throws Exception {
        var operator = new KeyedCoProcessOperator<>(new InterestScorer(GoldenCases.bundleDir(BUNDLE).toString(), null,
                14 * 86_400_000L, new DedupPolicy(64, InterestScorer.DEFAULT_DEDUP_HORIZON_MS), 0, 100,
                new ServingHandOff(shadowShare, logShare)));
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(operator, Click::userId, ScoreRequest::userId, Types.LONG);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    private long item(int i) {
        return bundle.longs("vocab.item")[i % 60];
    }

    private long category(int i) {
        return bundle.longs("vocab.category")[i % 9];
    }

    /** User u has 3u + 5 clicks: users 0–4 fit the window (T = 20), users 5–7 have wrapped it. */
    private Map<Long, List<Click>> sendClicks(KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> h)
            throws Exception {
        Map<Long, List<Click>> sent = new HashMap<>();
        for (int u = 0; u < USERS; u++) {
            long user = 100 + u;
            List<Click> clicks = new ArrayList<>();
            for (int i = 0; i < 3 * u + 5; i++) {
                Click c = new Click("u" + user + "-c" + i, user, item(7 * u + 3 * i), category(u + i), 1_000 + i);
                clicks.add(c);
                h.processElement1(c, i);
            }
            sent.put(user, clicks);
        }
        return sent;
    }

    private ScoreRequest request(int i) {
        long user = 100 + i % USERS;
        int n = 1 + i % 4;
        long[] items = new long[n];
        long[] categories = new long[n];
        for (int c = 0; c < n; c++) {
            items[c] = item(i + 11 * c);
            categories[c] = category(i + c);
        }
        return new ScoreRequest("req-" + i + "-" + Integer.toHexString(i * 31), user, 5_000 + i, items, categories);
    }

    private Run sendRequests(KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> h, int from, int to)
            throws Exception {
        int scoresBefore = h.extractOutputValues().size();
        int shadowBefore = values(h, ServingHandOff.SHADOW).size();
        int logBefore = values(h, ServingHandOff.SERVING_LOG).size();
        for (int i = from; i < to; i++) {
            h.processElement2(request(i), 10_000 + i);
        }
        List<CtrScore> scores = h.extractOutputValues();
        return new Run(byId(scores.subList(scoresBefore, scores.size()), s -> s.getRequestId().toString()),
                byId(values(h, ServingHandOff.SHADOW).subList(shadowBefore, values(h, ServingHandOff.SHADOW).size()),
                        ShadowRequest::requestId),
                byId(values(h, ServingHandOff.SERVING_LOG).subList(logBefore, values(h, ServingHandOff.SERVING_LOG).size()),
                        l -> l.getRequestId().toString()));
    }

    private static <X> List<X> values(KeyedTwoInputStreamOperatorTestHarness<Long, Click, ScoreRequest, CtrScore> h,
                                      org.apache.flink.util.OutputTag<X> tag) {
        var q = h.getSideOutput(tag);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).toList();
    }

    private static <X> Map<String, X> byId(List<X> xs, Function<X, String> id) {
        Map<String, X> out = new HashMap<>();
        for (X x : xs) {
            assertThat(out.put(id.apply(x), x)).as("handed off twice: %s", id.apply(x)).isNull();
        }
        return out;
    }

    @Test
    void handsOffAnIndependentDeterministicShareWithTheStoredWindowAndTheScoresSent() throws Exception {
        double shadowShare = 0.3;
        double logShare = 0.5;
        Run first;
        Run again;
        Map<Long, List<Click>> clicks;
        OperatorSubtaskState snapshot;
        try (var h = open(shadowShare, logShare, null)) {
            clicks = sendClicks(h);
            first = sendRequests(h, 0, REQUESTS);
            snapshot = h.snapshot(1, 1);
        }
        assertThat(first.scores()).hasSize(REQUESTS);
        assertShare(first.shadow().size(), REQUESTS, shadowShare, "shadow sample");
        assertShare(first.log().size(), REQUESTS, logShare, "serving-log sample");
        Set<String> both = new HashSet<>(first.shadow().keySet());
        both.retainAll(first.log().keySet());
        // independent samples: the overlap is the product of the shares, not the smaller share
        assertShare(both.size(), REQUESTS, shadowShare * logShare, "requests in both samples");

        for (ShadowRequest s : first.shadow().values()) {
            ScoreRequest r = request(Integer.parseInt(s.requestId().split("-")[1]));
            assertThat(s.userId()).isEqualTo(r.userId());
            assertThat(s.eventTime()).isEqualTo(r.eventTime());
            assertThat(s.itemIds()).containsExactly(r.itemIds());
            assertThat(s.categoryIds()).containsExactly(r.categoryIds());
            List<Click> window = window(clicks.get(s.userId()));
            assertThat(s.historyItems()).as(s.requestId()).containsExactly(window.stream().mapToLong(Click::itemId).toArray());
            assertThat(s.historyCategories()).containsExactly(window.stream().mapToLong(Click::categoryId).toArray());
            assertThat(s.clicksApplied()).isEqualTo(clicks.get(s.userId()).size());
        }
        for (ServingLog l : first.log().values()) {
            CtrScore sent = first.scores().get(l.getRequestId().toString());
            ScoreRequest r = request(Integer.parseInt(l.getRequestId().toString().split("-")[1]));
            assertThat(l.getUserId()).isEqualTo(sent.getUserId());
            assertThat(l.getRequestTime()).isEqualTo(sent.getRequestTime());
            assertThat(l.getScoredAt()).isEqualTo(sent.getScoredAt());
            assertThat(l.getModelVersion().toString()).isEqualTo(sent.getModelVersion().toString());
            assertThat(l.getModelFingerprint().toString()).isEqualTo(bundle.fingerprint())
                    .isEqualTo(sent.getModelFingerprint().toString());
            assertThat(l.getClicksApplied()).isEqualTo(sent.getClicksApplied());
            assertThat(l.getScores()).containsExactlyElementsOf(sent.getScores().stream().map(c -> c.getCtr()).toList());
            assertThat(l.getCandidates()).extracting(Candidate::getItemId)
                    .containsExactlyElementsOf(sent.getScores().stream().map(c -> c.getItemId()).toList());
            assertThat(l.getCandidates()).extracting(Candidate::getCategoryId)
                    .containsExactly(java.util.Arrays.stream(r.categoryIds()).boxed().toArray(Long[]::new));
            List<Click> window = window(clicks.get(l.getUserId()));
            assertThat(l.getHistory()).extracting(HistoryClick::getItemId)
                    .containsExactlyElementsOf(window.stream().map(Click::itemId).toList());
            assertThat(l.getHistory()).extracting(HistoryClick::getCategoryId)
                    .containsExactlyElementsOf(window.stream().map(Click::categoryId).toList());
            assertThat(l.getHistory()).hasSize(sent.getHistoryLength());
            assertThat(l.getLabels()).isEmpty();
        }

        // The same requests after a restore (a replay after a failure): handed off exactly as before.
        try (var h = open(shadowShare, logShare, snapshot)) {
            again = sendRequests(h, 0, REQUESTS);
        }
        assertThat(again.shadow().keySet()).isEqualTo(first.shadow().keySet());
        assertThat(again.log().keySet()).isEqualTo(first.log().keySet());
    }

    @Test
    void shareOneHandsOffEveryRequestAndZeroNone() throws Exception {
        try (var h = open(1.0, 1.0, null)) {
            sendClicks(h);
            Run all = sendRequests(h, 0, 200);
            assertThat(all.shadow().keySet()).isEqualTo(all.scores().keySet()).hasSize(200);
            assertThat(all.log().keySet()).isEqualTo(all.scores().keySet());
        }
        try (var h = open(0, 0, null)) {
            sendClicks(h);
            Run none = sendRequests(h, 0, 200);
            assertThat(none.scores()).hasSize(200);
            assertThat(none.shadow()).isEmpty();
            assertThat(none.log()).isEmpty();
        }
    }

    @Test
    void aUserWithoutStateIsHandedOffWithAnEmptyWindow() throws Exception {
        try (var h = open(1.0, 1.0, null)) {
            Run r = sendRequests(h, 0, 8); // no clicks sent
            assertThat(r.shadow().values()).allSatisfy(s -> {
                assertThat(s.historyItems()).isEmpty();
                assertThat(s.clicksApplied()).isZero();
            });
            assertThat(r.log().values()).allSatisfy(l -> assertThat(l.getHistory()).isEmpty());
        }
    }

    /** The newest T clicks, oldest first: the window the model definition reads (MODEL_BUNDLE.md section 4). */
    private List<Click> window(List<Click> clicks) {
        return clicks.subList(Math.max(0, clicks.size() - maxHistory), clicks.size());
    }

    /** Within four binomial standard deviations of n·share. */
    private static void assertShare(int count, int n, double share, String what) {
        double mean = n * share;
        double sd = Math.sqrt(n * share * (1 - share));
        assertThat((double) count).as("%s: %d of %d, share %.2f", what, count, n, share)
                .isBetween(mean - 4 * sd, mean + 4 * sd);
    }
}

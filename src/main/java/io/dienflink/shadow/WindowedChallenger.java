package io.dienflink.shadow;

import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.CtrScore;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Ring;
import io.dienflink.model.Semantics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores a handed-off request with the challenger bundle B in <em>windowed</em> semantics
 * (MODEL_BUNDLE.md section 4): the extractor restarted from zero over the last {@code T_B} raw
 * clicks of the window the champion read from state, then attention, AUGRU and head for every
 * candidate. This is what a user gets right after an upgrade to B (the job rebuilds each user's
 * states from the stored raw clicks under the new model). B may differ from the serving model in
 * vocabularies, dimensions and T: only raw ids cross over. A window longer than {@code T_B} is cut
 * to its newest {@code T_B} clicks; a shorter one is used whole (the state holds no more).
 *
 * <p>Plain Java on the model core, one instance per thread (it owns a {@link DienScorer}'s scratch
 * buffers); the {@link DienModel} may be shared.
 */
public final class WindowedChallenger {
    private final DienModel model;
    private final DienScorer scorer;
    private final InterestState state;
    private final int maxHistory;
    private final float[] zeroState;
    private float[] ctr = new float[16];

    public WindowedChallenger(DienModel model) {
        this.model = model;
        this.scorer = model.newScorer();
        this.state = scorer.newState();
        this.maxHistory = model.config().maxHistory();
        this.zeroState = new float[model.config().hiddenDim()];
    }

    public DienModel model() {
        return model;
    }

    /** Clicks of a window of {@code windowLength} that B reads: its newest {@code min(windowLength, T_B)}. */
    public int clicksUsed(int windowLength) {
        return Math.min(windowLength, maxHistory);
    }

    /**
     * Scores synthetic requests (windows of every length up to T, 1, 10 and 100 candidates) for
     * {@code rounds} rounds or {@code maxMs}, whichever ends first, so that the JIT has compiled
     * B's kernels before real requests come; returns the rounds run.
     */
    public static int warmUp(WindowedChallenger c, int rounds, long maxMs) {
        long end = System.nanoTime() + maxMs * 1_000_000;
        long[] ids = new long[100];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        int r = 0;
        for (; r < rounds && System.nanoTime() < end; r++) {
            int k = 1 + r % c.maxHistory;
            long[] history = java.util.Arrays.copyOf(ids, Math.min(k, ids.length));
            int n = r % 10 == 0 ? 100 : r % 2 == 0 ? 10 : 1;
            long[] candidates = java.util.Arrays.copyOf(ids, n);
            c.score(new ShadowRequest("warm-up", r, 0, candidates, candidates, history, history, k), 0);
        }
        return r;
    }

    /**
     * B's scores for the request, named with B's version and fingerprint; {@code history_length} is
     * the number of clicks B read, {@code clicks_applied} the champion's (which clicks the window holds).
     *
     * @param scoredAt the score's {@code scored_at} (epoch ms)
     */
    public CtrScore score(ShadowRequest r, long scoredAt) {
        int window = r.historyItems().length;
        int k = clicksUsed(window);
        int first = window - k;
        // Only the raw ids are set: windowed scoring recomputes every state from zero, so the states
        // given here are never read.
        state.reset(model.fingerprint64(), maxHistory, zeroState.length, k, k, Ring.nextAfterLayout(k, maxHistory));
        for (int t = 0; t < k; t++) {
            state.put(t, r.historyItems()[first + t], r.historyCategories()[first + t], zeroState);
        }
        int n = r.itemIds().length;
        if (ctr.length < n) {
            ctr = new float[Math.max(n, 2 * ctr.length)];
        }
        state.score(scorer, r.userId(), r.itemIds(), r.categoryIds(), n, Semantics.WINDOWED, ctr);
        List<CandidateScore> scores = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            scores.add(new CandidateScore(r.itemIds()[i], ctr[i]));
        }
        return CtrScore.newBuilder()
                .setRequestId(r.requestId())
                .setUserId(r.userId())
                .setModelVersion(model.modelVersion())
                .setModelFingerprint(model.fingerprint())
                .setScores(scores)
                .setHistoryLength(k)
                .setClicksApplied(r.clicksApplied())
                .setRequestTime(Instant.ofEpochMilli(r.eventTime()))
                .setScoredAt(Instant.ofEpochMilli(scoredAt))
                .build();
    }
}

package io.dienflink.verify;

import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.CtrScore;
import io.dienflink.job.ScoreRequest;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Reproducibility;
import io.dienflink.model.Semantics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Recomputes scores with the model core: a score must be the model's over the user's first
 * {@code clicks_applied} distinct clicks (streaming semantics), for the request's candidates in
 * request order, within {@link Reproducibility#TOLERANCE}.
 *
 * <p>Per user the scores are sorted by {@code clicks_applied} and one {@link InterestState} is
 * advanced through the user's clicks, one extractor step per click, scoring each request when the
 * state holds the clicks it claims: the cost is one pass over the clicks plus one scoring per score,
 * as in the job, instead of a replay per score. Scoring only reads the state. Not thread-safe.
 */
final class ScoreCheck {
    /** A score and the request it answers. */
    record Answer(ScoreRequest request, CtrScore score) {}

    private final DienModel model;
    private final DienScorer scorer;
    private final int maxHistory;
    private float[] ctr = new float[16];
    private long checked;

    ScoreCheck(DienModel model) {
        this.model = model;
        this.scorer = model.newScorer();
        this.maxHistory = model.config().maxHistory();
    }

    /** Scores whose CTRs were recomputed so far. */
    long checked() {
        return checked;
    }

    /**
     * Checks the scores of one user's requests.
     *
     * @param clicks the user's distinct clicks, or null for a user without clicks
     * @return the wrong scores (by identity); each is described in {@code violations}
     */
    Set<CtrScore> check(long userId, UserClicks clicks, List<Answer> answers, Violations violations) {
        Set<CtrScore> wrong = Collections.newSetFromMap(new IdentityHashMap<>());
        int distinct = clicks == null ? 0 : clicks.count();
        List<Answer> recompute = new ArrayList<>(answers.size());
        for (Answer a : answers) {
            String problem = shapeProblem(userId, distinct, a);
            if (problem != null) {
                wrong.add(a.score());
                violations.add(describe(a) + ": " + problem);
            } else {
                recompute.add(a);
            }
        }
        recompute.sort(Comparator.comparingLong(a -> a.score().getClicksApplied()));
        InterestState state = scorer.newState();
        int applied = 0;
        for (Answer a : recompute) {
            long target = a.score().getClicksApplied();
            for (; applied < target; applied++) {
                state.append(scorer, clicks.item(applied), clicks.category(applied));
            }
            ScoreRequest r = a.request();
            int n = r.itemIds().length;
            if (ctr.length < n) {
                ctr = new float[Math.max(n, 2 * ctr.length)];
            }
            state.score(scorer, r.userId(), r.itemIds(), r.categoryIds(), n, Semantics.STREAMING, ctr);
            checked++;
            List<CandidateScore> got = a.score().getScores();
            for (int i = 0; i < n; i++) {
                float g = got.get(i).getCtr();
                // written so that a NaN on either side is a difference
                if (!(Math.abs(g - ctr[i]) <= Reproducibility.TOLERANCE)) {
                    wrong.add(a.score());
                    violations.add(describe(a) + ": ctr[" + i + "] of item " + r.itemIds()[i] + " expected " + ctr[i]
                            + " got " + g + " (tolerance " + Reproducibility.TOLERANCE + ")");
                    break;
                }
            }
        }
        return wrong;
    }

    /** What is wrong with the score apart from its CTRs, or null. */
    private String shapeProblem(long userId, int distinct, Answer a) {
        CtrScore s = a.score();
        ScoreRequest r = a.request();
        if (s.getUserId() != userId) {
            return "user_id expected " + userId + " got " + s.getUserId();
        }
        if (!model.fingerprint().contentEquals(s.getModelFingerprint())) {
            return "model_fingerprint expected " + model.fingerprint() + " got " + s.getModelFingerprint();
        }
        List<CandidateScore> got = s.getScores();
        boolean sameItems = got.size() == r.itemIds().length;
        for (int i = 0; sameItems && i < got.size(); i++) {
            sameItems = got.get(i).getItemId() == r.itemIds()[i];
        }
        if (!sameItems) {
            return "items expected " + Arrays.toString(r.itemIds()) + " got "
                    + got.stream().map(CandidateScore::getItemId).toList();
        }
        long applied = s.getClicksApplied();
        if (applied < 0 || applied > distinct) {
            return "clicks_applied " + applied + " but the user has " + distinct + " distinct clicks";
        }
        if (s.getHistoryLength() != Math.min(applied, maxHistory)) {
            return "history_length expected " + Math.min(applied, maxHistory) + " got " + s.getHistoryLength();
        }
        return null;
    }

    private static String describe(Answer a) {
        return "score of request " + a.request().requestId() + " (user " + a.request().userId() + ", clicks_applied "
                + a.score().getClicksApplied() + ")";
    }
}

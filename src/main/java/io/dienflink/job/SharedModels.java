package io.dienflink.job;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Semantics;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link DienModel} per bundle path per TaskManager (per job class loader): the parallel
 * subtasks in a TaskManager share the weights (70 MB of embeddings at the official vocabulary)
 * instead of loading a copy each. Each subtask still has its own {@code DienScorer}.
 */
final class SharedModels {
    private static final Logger LOG = LoggerFactory.getLogger(SharedModels.class);
    private static final long WARM_UP_MS = 60_000;
    private static final int WARM_UP_ROUNDS = 600;
    private static final ConcurrentHashMap<String, DienModel> MODELS = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<String, DienModel> WARMED_UP = new ConcurrentHashMap<>();

    private SharedModels() {}

    /**
     * Runs appends and scoring on throw-away states, with 1, 10 and 100 candidates and both
     * semantics, for at least {@value #WARM_UP_ROUNDS} rounds (capped at {@value #WARM_UP_MS} ms).
     * The Vector API is only fast once C2 has compiled a kernel: interpreted or C1-compiled it runs
     * the library's Java fallback, a hundred times slower, and on a busy machine C2 takes seconds
     * to get to every kernel. Each shape is exercised because a shape C2 has not seen sends the
     * code back to the slow tiers.
     */
    static DienModel warmedUp(DienModel model) {
        long start = System.nanoTime();
        long end = start + WARM_UP_MS * 1_000_000;
        DienScorer scorer = model.newScorer();
        int t = model.config().maxHistory();
        long[] ids = new long[100];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        float[] ctr = new float[ids.length];
        int rounds = 0;
        while (rounds < WARM_UP_ROUNDS && System.nanoTime() < end) {
            InterestState s = scorer.newState();
            int clicks = rounds % 2 == 0 ? t + 3 : 1 + rounds % t;
            for (int i = 0; i < clicks; i++) {
                s.append(scorer, i, i % 7);
            }
            s.score(scorer, rounds, ids, ids, 1, Semantics.STREAMING, ctr);
            s.score(scorer, rounds, ids, ids, 10, Semantics.STREAMING, ctr);
            if (rounds % 10 == 0) {
                s.score(scorer, rounds, ids, ids, 100, Semantics.STREAMING, ctr);
                s.score(scorer, rounds, ids, ids, 3, Semantics.WINDOWED, ctr);
            }
            rounds++;
        }
        LOG.info("Model {} warmed up: {} rounds in {} ms", model, rounds, (System.nanoTime() - start) / 1_000_000);
        return model;
    }

    /**
     * The model at {@code path}, loaded on first use and, for {@code scoring}, warmed up once (the
     * subtasks wait for it) so that the first requests do not run on the slow tiers. Rebuilding
     * windows offline ({@code migrate}) does not score and skips the warm-up.
     *
     * @param expectedFingerprint the fingerprint the client validated, or null; a TaskManager that sees
     *     another bundle at the same path fails instead of scoring with a different model
     */
    static DienModel get(String path, String expectedFingerprint, boolean scoring) {
        DienModel m = scoring
                ? WARMED_UP.computeIfAbsent(path, p -> warmedUp(loaded(p)))
                : loaded(path);
        if (expectedFingerprint != null && !expectedFingerprint.equals(m.fingerprint())) {
            throw new IllegalStateException("the bundle at " + path + " on this TaskManager has fingerprint "
                    + m.fingerprint() + ", but the job was submitted with " + expectedFingerprint
                    + ": every TaskManager must see the same bundle");
        }
        return m;
    }

    private static DienModel loaded(String path) {
        return MODELS.computeIfAbsent(path, p -> DienModel.load(Path.of(p)));
    }
}

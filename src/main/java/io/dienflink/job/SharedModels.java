package io.dienflink.job;

import io.dienflink.model.DienModel;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link DienModel} per bundle path per TaskManager (per job class loader): the parallel
 * subtasks in a TaskManager share the weights (70 MB of embeddings at the official vocabulary)
 * instead of loading a copy each. Each subtask still has its own {@code DienScorer}.
 */
final class SharedModels {
    private static final ConcurrentHashMap<String, DienModel> MODELS = new ConcurrentHashMap<>();

    private SharedModels() {}

    /**
     * The model at {@code path}, loading it on first use.
     *
     * @param expectedFingerprint the fingerprint the client validated, or null; a TaskManager that sees
     *     another bundle at the same path fails instead of scoring with a different model
     */
    static DienModel get(String path, String expectedFingerprint) {
        DienModel m = MODELS.computeIfAbsent(path, p -> DienModel.load(Path.of(p)));
        if (expectedFingerprint != null && !expectedFingerprint.equals(m.fingerprint())) {
            throw new IllegalStateException("the bundle at " + path + " on this TaskManager has fingerprint "
                    + m.fingerprint() + ", but the job was submitted with " + expectedFingerprint
                    + ": every TaskManager must see the same bundle");
        }
        return m;
    }
}

package io.dienflink.job;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelConfig;
import io.dienflink.reference.UntrainedBundles;
import java.util.HashMap;
import java.util.Map;

/** A stored user's clicks in window order, read the way the job reads them ({@link UserWindows#load}). */
final class StoredClicks {
    /** Only for {@code newState()}: a load sizes the state to the header, whatever model made it. */
    private static final DienScorer ANY_MODEL = DienModel.from(UntrainedBundles.random(
            UntrainedBundles.officialArchitecture("stored-clicks", new ModelConfig.VocabSizes(1, 1, 1), 1), 1)).newScorer();

    private StoredClicks() {}

    /** (item id, category id) pairs, oldest first. */
    static long[][] of(UserHeader h, Map<Integer, ClickEntry> entriesBySlot) {
        InterestState s = UserWindows.load(h, entriesBySlot.entrySet(), ANY_MODEL.newState());
        long[][] out = new long[s.windowLength()][];
        for (int t = 0; t < out.length; t++) {
            out[t] = new long[] {s.itemAt(t), s.categoryAt(t)};
        }
        return out;
    }

    /** The same for a user read from a savepoint. */
    static long[][] of(UserSnapshot u) {
        Map<Integer, ClickEntry> bySlot = new HashMap<>();
        for (int slot = 0; slot < u.header.count; slot++) {
            bySlot.put(slot, u.entries[slot]);
        }
        return of(u.header, bySlot);
    }
}

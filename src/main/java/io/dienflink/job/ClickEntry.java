package io.dienflink.job;

import java.util.Arrays;

/**
 * One click of a user's window as stored in keyed state: raw ids and the extractor state after it.
 * Stored as a map entry per click (slot = position in the user's ring), so that a click writes
 * 160 bytes (H = 36) instead of rewriting the whole window.
 */
public final class ClickEntry {
    public long itemId;
    public long categoryId;
    public float[] state;

    public ClickEntry() {
        this(0, 0, new float[0]);
    }

    public ClickEntry(long itemId, long categoryId, float[] state) {
        this.itemId = itemId;
        this.categoryId = categoryId;
        this.state = state;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClickEntry e && e.itemId == itemId && e.categoryId == categoryId && Arrays.equals(e.state, state);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(itemId) * 31 + Long.hashCode(categoryId);
    }

    @Override
    public String toString() {
        return "ClickEntry[" + itemId + ", " + categoryId + ", " + state.length + " floats]";
    }
}

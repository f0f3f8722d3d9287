package io.dienflink.model;

/** Which extractor states the evolving layer reads (MODEL_BUNDLE.md section 4). */
public enum Semantics {
    /**
     * The states of the whole click stream: each click costs one cell step and the states are kept.
     * The streaming job's semantics.
     */
    STREAMING,
    /**
     * The extractor restarted from zero at the window's first click, as a stateless server computes
     * from the last T clicks. Identical to streaming while a user has at most T clicks.
     */
    WINDOWED
}

package io.dienflink.train;

/** One labelled example in raw ids: the user, the history oldest first, the candidate and the click label. */
public record RawSample(long user, long[] items, long[] categories, long candidateItem, long candidateCategory, int label) {}

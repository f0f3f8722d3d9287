package io.dienflink.job;

/** A validated ad request: candidates as parallel id arrays, in request order. */
public record ScoreRequest(String requestId, long userId, long eventTime, long[] itemIds, long[] categoryIds) {}

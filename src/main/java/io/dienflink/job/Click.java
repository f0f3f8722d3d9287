package io.dienflink.job;

/** A validated click, as the scoring operator receives it. */
public record Click(String eventId, long userId, long itemId, long categoryId, long eventTime) {}

package io.dienflink.train;

import java.util.List;

/**
 * Training and test examples in raw ids, and for data that has it, the full event log (every click
 * and every test example in time order) from which the streaming semantics can be replayed.
 *
 * @param events null, or the time-ordered log: {@code [user, item, category]} for a click,
 *     {@code [user, -1 - testIndex, 0]} for the moment test example {@code testIndex} is scored
 */
public record RawData(String description, List<RawSample> train, List<RawSample> test, List<long[]> events) {}

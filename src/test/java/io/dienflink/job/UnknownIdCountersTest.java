package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.model.DienModel;
import io.dienflink.model.GoldenCases;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.SimpleCounter;
import org.junit.jupiter.api.Test;

/** Ids outside the bundle's vocabularies are counted per table and input; known ids are not. */
class UnknownIdCountersTest {
    @Test
    void countsUnknownIdsPerTableAndInput() {
        var bundle = GoldenCases.bundle("official");
        long item = bundle.longs("vocab.item")[0];
        long category = bundle.longs("vocab.category")[0];
        long user = bundle.longs("vocab.user")[0];
        long unknown = 987_654_321_987L;
        Map<String, SimpleCounter> counters = new HashMap<>();
        UnknownIdCounters c = new UnknownIdCounters(DienModel.from(bundle),
                (table, input) -> counters.computeIfAbsent(table + "/" + input, k -> new SimpleCounter()));

        c.count(new Click("a", user, item, category, 1));
        c.count(new Click("b", user, unknown, category, 1));
        c.count(new Click("c", user, unknown, unknown, 1));
        c.count(new ScoreRequest("r", unknown, 1, new long[] {item, unknown, unknown}, new long[] {category, category, unknown}));
        c.count(new ScoreRequest("s", user, 1, new long[] {item}, new long[] {category}));

        Map<String, Long> counts = new HashMap<>();
        counters.forEach((k, v) -> counts.put(k, v.getCount()));
        assertThat(counts).containsExactlyInAnyOrderEntriesOf(Map.of(
                "item/click", 2L, "category/click", 1L,
                "item/candidate", 2L, "category/candidate", 1L,
                "user/request", 1L));
    }
}

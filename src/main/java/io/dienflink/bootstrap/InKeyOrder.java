package io.dienflink.bootstrap;

import io.dienflink.traffic.SyntheticWorld;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.util.Collector;

/**
 * For a writer subtask's index, emits the indices of the population's users that the subtask owns, in
 * batches of one key group ({@link UserWriter}), in the order RocksDB keeps them: key group, then user id (a key group prefix, then the id's 8 bytes
 * big-endian, and ids grow with the index). Each writer then inserts in key order, so the SST files
 * RocksDB flushes do not overlap and its compactions have nothing to merge, where users in index
 * order (key groups interleaved) made it rewrite every user several times: 16.7 of 146 CPU seconds
 * at a million users. The order also holds through the exchange to the writers: every batch emitted
 * here goes to the one writer that owns it, over one channel, in order.
 *
 * <p>Counts the users emitted in the accumulator {@link SyntheticBootstrap#USERS}: the writers cannot
 * count them themselves, as the State Processor API runs them in a task of its own whose
 * accumulators never reach the job's result.
 */
final class InKeyOrder extends RichFlatMapFunction<Long, long[]> {
    /** Users per record at most ({@link UserWriter}): a batch of one key group. */
    static final int BATCH = 256;

    private final Population population;
    private final int maxParallelism;
    private final int parallelism;
    private transient LongCounter users;

    InKeyOrder(Population population, int maxParallelism, int parallelism) {
        this.population = population;
        this.maxParallelism = maxParallelism;
        this.parallelism = parallelism;
    }

    @Override
    public void open(OpenContext context) {
        users = getRuntimeContext().getLongCounter(SyntheticBootstrap.USERS);
    }

    @Override
    public void flatMap(Long writer, Collector<long[]> out) {
        KeyGroupRange range = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(maxParallelism, parallelism,
                writer.intValue());
        int groups = range.getNumberOfKeyGroups();
        // counting sort by key group: indices ascend within each group as they are visited in order
        int[] group = new int[population.users()];
        int[] start = new int[groups + 1];
        for (int u = 0; u < group.length; u++) {
            int g = KeyGroupRangeAssignment.assignToKeyGroup(SyntheticWorld.id(u), maxParallelism);
            group[u] = range.contains(g) ? g - range.getStartKeyGroup() : -1;
            if (group[u] >= 0) {
                start[group[u] + 1]++;
            }
        }
        for (int g = 0; g < groups; g++) {
            start[g + 1] += start[g];
        }
        int[] ordered = new int[start[groups]];
        int[] next = start.clone();
        for (int u = 0; u < group.length; u++) {
            if (group[u] >= 0) {
                ordered[next[group[u]]++] = u;
            }
        }
        for (int g = 0; g < groups; g++) {
            for (int from = start[g]; from < start[g + 1]; from += BATCH) {
                long[] batch = new long[Math.min(BATCH, start[g + 1] - from)];
                for (int i = 0; i < batch.length; i++) {
                    batch[i] = ordered[from + i];
                }
                out.collect(batch);
            }
        }
        users.add(ordered.length);
    }
}

package io.dienflink.train;

import io.dienflink.traffic.SyntheticWorld;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Training data from the {@link SyntheticWorld} the demo's traffic generator uses: users click
 * along their drifting interests; now and then one of them is shown a candidate and clicks it with
 * the world's probability (high for the current category, also high for the next one on the user's
 * walk, low otherwise). The history of an example is the user's last T clicks. The last 10 % of the
 * examples in time are the test set, and the whole event log is kept so that streaming scoring can
 * be replayed.
 */
public final class SyntheticData {
    private SyntheticData() {}

    /** {@code samples} examples (90 % train, 10 % test) from a demo-sized world. */
    public static RawData generate(int samples, int maxHistory, long seed) {
        SyntheticWorld world = SyntheticWorld.demo(seed);
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int users = world.users();
        long[][] histItems = new long[users][maxHistory];
        long[][] histCats = new long[users][maxHistory];
        int[] seen = new int[users];
        int testFrom = samples - samples / 10;
        List<RawSample> train = new ArrayList<>(testFrom);
        List<RawSample> test = new ArrayList<>(samples - testFrom);
        List<long[]> events = new ArrayList<>();
        while (train.size() + test.size() < samples) {
            int u = world.randomUser();
            int clicks = 1 + rnd.nextInt(3);
            for (int i = 0; i < clicks; i++) {
                SyntheticWorld.Click c = world.click(u);
                int slot = seen[u] % maxHistory;
                histItems[u][slot] = c.itemId();
                histCats[u][slot] = c.categoryId();
                seen[u]++;
                events.add(new long[] {c.userId(), c.itemId(), c.categoryId()});
            }
            if (seen[u] < 3 || rnd.nextInt(3) != 0) {
                continue;
            }
            int n = Math.min(seen[u], maxHistory);
            long[] items = new long[n];
            long[] cats = new long[n];
            for (int t = 0; t < n; t++) {
                int slot = (seen[u] - n + t) % maxHistory;
                items[t] = histItems[u][slot];
                cats[t] = histCats[u][slot];
            }
            SyntheticWorld.Candidate c = world.candidate(u);
            RawSample s = new RawSample(SyntheticWorld.id(u), items, cats, c.itemId(), c.categoryId(), world.label(c));
            if (train.size() < testFrom) {
                train.add(s);
            } else {
                events.add(new long[] {SyntheticWorld.id(u), -1 - test.size(), 0});
                test.add(s);
            }
        }
        return new RawData("synthetic: " + samples + " examples from SyntheticWorld.demo(" + seed + "), T = " + maxHistory,
                train, test, events);
    }
}

package io.dienflink.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Examples mapped to embedding rows. Vocabularies are built from the training examples: the raw
 * ids sorted ascending, raw id {@code vocab[i]} → row {@code i + 1}, exactly the bundle's layout, so
 * the trained tables export as they are. Ids outside the vocabulary (in the test set) map to row 0.
 * Each history position gets a negative item for the auxiliary loss: a random item of the training
 * vocabulary, with the category it was seen with.
 */
public final class Dataset {
    public final long[] users;
    public final long[] items;
    public final long[] categories;
    public final List<Sample> train;
    public final List<Sample> test;
    public final RawData raw;

    private final Map<Long, Integer> userRow;
    private final Map<Long, Integer> itemRow;
    private final Map<Long, Integer> categoryRow;
    private final int[] itemCategoryRow;

    public Dataset(RawData raw, long seed) {
        this.raw = raw;
        List<Long> u = new ArrayList<>();
        List<Long> it = new ArrayList<>();
        List<Long> c = new ArrayList<>();
        Map<Long, Long> categoryOfItem = new HashMap<>();
        for (RawSample s : raw.train()) {
            u.add(s.user());
            it.add(s.candidateItem());
            c.add(s.candidateCategory());
            categoryOfItem.putIfAbsent(s.candidateItem(), s.candidateCategory());
            for (int i = 0; i < s.items().length; i++) {
                it.add(s.items()[i]);
                c.add(s.categories()[i]);
                categoryOfItem.putIfAbsent(s.items()[i], s.categories()[i]);
            }
        }
        users = u.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
        items = it.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
        categories = c.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
        userRow = index(users);
        itemRow = index(items);
        categoryRow = index(categories);
        itemCategoryRow = new int[items.length + 1];
        for (int i = 0; i < items.length; i++) {
            itemCategoryRow[i + 1] = categoryRow.getOrDefault(categoryOfItem.get(items[i]), 0);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        train = convert(raw.train(), rnd);
        test = convert(raw.test(), rnd);
    }

    private static Map<Long, Integer> index(long[] vocab) {
        Map<Long, Integer> m = new HashMap<>(vocab.length * 2);
        for (int i = 0; i < vocab.length; i++) {
            m.put(vocab[i], i + 1);
        }
        return m;
    }

    private List<Sample> convert(List<RawSample> in, SplittableRandom rnd) {
        List<Sample> out = new ArrayList<>(in.size());
        for (RawSample s : in) {
            int n = s.items().length;
            int[] it = new int[n];
            int[] ct = new int[n];
            int[] ni = new int[n];
            int[] nc = new int[n];
            for (int t = 0; t < n; t++) {
                it[t] = itemRow.getOrDefault(s.items()[t], 0);
                ct[t] = categoryRow.getOrDefault(s.categories()[t], 0);
                ni[t] = 1 + rnd.nextInt(Math.max(1, items.length));
                nc[t] = itemCategoryRow[Math.min(ni[t], items.length)];
            }
            out.add(new Sample(userRow.getOrDefault(s.user(), 0), it, ct, itemRow.getOrDefault(s.candidateItem(), 0),
                    categoryRow.getOrDefault(s.candidateCategory(), 0), ni, nc, s.label()));
        }
        return out;
    }

    /** Share of positive labels in the training set. */
    public double positiveRate() {
        return train.stream().mapToInt(Sample::label).average().orElse(0);
    }

    @Override
    public String toString() {
        return raw.description() + "; " + train.size() + " train / " + test.size() + " test examples; vocabularies "
                + users.length + " users, " + items.length + " items, " + categories.length + " categories; "
                + String.format("%.1f %% positive", 100 * positiveRate());
    }
}

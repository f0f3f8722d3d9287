package io.dienflink.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

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

    private final int[] itemCategoryRow;

    public Dataset(RawData raw, long seed) {
        this.raw = raw;
        LongStream.Builder u = LongStream.builder();
        LongStream.Builder it = LongStream.builder();
        LongStream.Builder c = LongStream.builder();
        for (RawSample s : raw.train()) {
            u.add(s.user());
            it.add(s.candidateItem());
            c.add(s.candidateCategory());
            for (int i = 0; i < s.items().length; i++) {
                it.add(s.items()[i]);
                c.add(s.categories()[i]);
            }
        }
        users = u.build().sorted().distinct().toArray();
        items = it.build().sorted().distinct().toArray();
        categories = c.build().sorted().distinct().toArray();
        // each item's category: the one it is first seen with
        itemCategoryRow = new int[items.length + 1];
        for (RawSample s : raw.train()) {
            firstCategory(s.candidateItem(), s.candidateCategory());
            for (int i = 0; i < s.items().length; i++) {
                firstCategory(s.items()[i], s.categories()[i]);
            }
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        train = convert(raw.train(), rnd);
        test = convert(raw.test(), rnd);
    }

    /** The embedding row of a raw id: its index in the sorted vocabulary plus one, or 0 when absent. */
    private static int row(long[] vocabulary, long id) {
        int i = Arrays.binarySearch(vocabulary, id);
        return i >= 0 ? i + 1 : 0;
    }

    private void firstCategory(long item, long category) {
        int r = row(items, item);
        if (itemCategoryRow[r] == 0) {
            itemCategoryRow[r] = row(categories, category);
        }
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
                it[t] = row(items, s.items()[t]);
                ct[t] = row(categories, s.categories()[t]);
                ni[t] = 1 + rnd.nextInt(Math.max(1, items.length));
                nc[t] = itemCategoryRow[Math.min(ni[t], items.length)];
            }
            out.add(new Sample(row(users, s.user()), it, ct, row(items, s.candidateItem()),
                    row(categories, s.candidateCategory()), ni, nc, s.label()));
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

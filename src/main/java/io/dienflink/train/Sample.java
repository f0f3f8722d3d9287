package io.dienflink.train;

/**
 * One training example in embedding-row space: the user, the history (oldest first) and the
 * candidate as rows of the embedding tables (0 = unknown id), negative items for the auxiliary
 * loss (one per history position), and the label.
 */
public record Sample(int user, int[] items, int[] categories, int candidateItem, int candidateCategory,
                     int[] negativeItems, int[] negativeCategories, int label) {}

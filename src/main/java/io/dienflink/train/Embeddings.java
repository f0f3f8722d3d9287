package io.dienflink.train;

import io.dienflink.model.Kernels;

/**
 * The user, item and category embedding tables ({@code embedding.*}): lookups, and the sparse
 * gradients of the rows a sample used. An item vector is the item's and its category's embeddings
 * side by side (D = 2E).
 */
final class Embeddings {
    final Network.Param user;
    final Network.Param item;
    final Network.Param category;
    private final int e;
    private final Kernels k;

    Embeddings(Parameters params, int users, int items, int categories, int e, Kernels k) {
        this.e = e;
        this.k = k;
        user = params.embedding("embedding.user", users + 1, e);
        item = params.embedding("embedding.item", items + 1, e);
        category = params.embedding("embedding.category", categories + 1, e);
    }

    void user(int row, float[] dst) {
        System.arraycopy(user.value, row * e, dst, 0, e);
    }

    void itemVector(int itemRow, int categoryRow, float[] dst, int off) {
        System.arraycopy(item.value, itemRow * e, dst, off, e);
        System.arraycopy(category.value, categoryRow * e, dst, off + e, e);
    }

    void addUserGradient(Network.Gradients g, int row, float[] d, int off) {
        float[] gu = g.row(user, row);
        k.add(gu, 0, d, off, gu, 0, e);
    }

    void addItemGradient(Network.Gradients g, int itemRow, int categoryRow, float[] d, int off) {
        float[] gi = g.row(item, itemRow);
        k.add(gi, 0, d, off, gi, 0, e);
        float[] gc = g.row(category, categoryRow);
        k.add(gc, 0, d, off + e, gc, 0, e);
    }
}

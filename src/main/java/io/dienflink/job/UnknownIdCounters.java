package io.dienflink.job;

import io.dienflink.model.DienModel;
import java.util.function.BiFunction;
import org.apache.flink.metrics.Counter;

/**
 * Counts ids that are not in the bundle's vocabularies, per table ({@code item}, {@code category},
 * {@code user}) and per input ({@code click}, {@code candidate}, {@code request}). Such ids are
 * valid and scored with the unknown row, as the model was trained to; a rising count tells an
 * operator that the bundle's vocabularies are going stale.
 */
final class UnknownIdCounters {
    private final DienModel model;
    private final Counter clickItems;
    private final Counter clickCategories;
    private final Counter candidateItems;
    private final Counter candidateCategories;
    private final Counter requestUsers;

    /** @param counterFor the counter of a (table, input) pair */
    UnknownIdCounters(DienModel model, BiFunction<String, String, Counter> counterFor) {
        this.model = model;
        clickItems = counterFor.apply("item", "click");
        clickCategories = counterFor.apply("category", "click");
        candidateItems = counterFor.apply("item", "candidate");
        candidateCategories = counterFor.apply("category", "candidate");
        requestUsers = counterFor.apply("user", "request");
    }

    void count(Click click) {
        if (!model.knowsItem(click.itemId())) {
            clickItems.inc();
        }
        if (!model.knowsCategory(click.categoryId())) {
            clickCategories.inc();
        }
    }

    void count(ScoreRequest request) {
        if (!model.knowsUser(request.userId())) {
            requestUsers.inc();
        }
        for (int i = 0; i < request.itemIds().length; i++) {
            if (!model.knowsItem(request.itemIds()[i])) {
                candidateItems.inc();
            }
            if (!model.knowsCategory(request.categoryIds()[i])) {
                candidateCategories.inc();
            }
        }
    }
}

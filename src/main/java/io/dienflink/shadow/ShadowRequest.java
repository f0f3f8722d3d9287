package io.dienflink.shadow;

/**
 * What the scorer hands the challenger for one sampled request: the request and the user's window
 * of raw click ids exactly as the scorer read it from state (oldest first, at most the serving
 * model's maxHistory). The challenger needs nothing else: it scores in windowed semantics, from
 * zero over the window's raw clicks.
 *
 * @param eventTime the request's event time (epoch ms)
 * @param itemIds the candidates' item ids, in request order
 * @param categoryIds the candidates' category ids
 * @param historyItems the window's clicked item ids, oldest first
 * @param historyCategories the window's clicked category ids
 * @param clicksApplied distinct clicks the user's state had applied (as the champion's score says)
 */
public record ShadowRequest(String requestId, long userId, long eventTime, long[] itemIds, long[] categoryIds,
                            long[] historyItems, long[] historyCategories, long clicksApplied) {
}

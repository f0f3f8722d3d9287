package io.dienflink.bench;

import io.dienflink.model.AttentionKind;
import io.dienflink.model.ModelConfig;
import java.util.List;

/**
 * Floating-point operations of the DIEN computation as the fused path performs it (for example the
 * attention's [q; k; q − k; q ∘ k] product split into shared and per-candidate parts), not the
 * spec's naive formulation. A multiply-add is two operations; transcendental functions, padding
 * and data movement are not counted. Used to turn benchmark times into GFLOP/s.
 *
 * <p>The batched and the per-candidate scoring paths ({@code DienScorer.Batching}) perform the
 * same arithmetic, in products of other shapes, so one count serves both. Not counted, though
 * performed, at the official dimensions: padded columns (the 40-wide attention layer runs 48 wide;
 * on the rows path the reset-before gate products run 80 and 48 columns wide for 72 and 36) and,
 * on the lanes path, the candidates rounded up to whole vectors (100 run as 112 with 16-float
 * vectors).
 */
public final class FlopModel {
    private FlopModel() {}

    /** One GRU step of a cell with input size {@code in}. */
    public static long cellStep(int in, int h) {
        return 2L * in * 3 * h + 2L * h * 3 * h + 12L * h;
    }

    /** Appending one click: one extractor step. */
    public static long append(ModelConfig c) {
        return cellStep(c.itemDim(), c.hiddenDim());
    }

    /** Scoring {@code candidates} against a window of {@code k} states. */
    public static long score(ModelConfig c, int k, int candidates, boolean windowed) {
        int e = c.embeddingDim();
        int d = c.itemDim();
        int h = c.hiddenDim();
        List<Integer> head = c.head().layers();
        long request = 2L * k * h * 3 * h + (long) k * d + 2L * e * head.get(0) + 4L * d * head.get(0);
        if (windowed) {
            request += k * append(c);
        }
        long perCandidate;
        if (c.attention().kind() == AttentionKind.DIN_MLP) {
            List<Integer> att = c.attention().layers();
            int n1 = att.get(0);
            request += 2L * k * h * n1;
            // query projection; q·(W_a + W_c); diag(q)·W_d; the (q ∘ h)-term product and the add of the shared part
            perCandidate = (c.attention().queryProjection() ? 2L * d * h : 0) + 3L * h * n1 + 2L * k * h * n1 + (long) k * n1;
            for (int i = 1; i < att.size(); i++) {
                perCandidate += 2L * k * att.get(i - 1) * att.get(i);
            }
            perCandidate += 2L * k * att.get(att.size() - 1);
        } else {
            perCandidate = 2L * d * h + 2L * k * h;
        }
        // softmax, then the AUGRU's recurrent half (its input half is the per-request projection above)
        perCandidate += 3L * k + (long) k * cellStep(0, h);
        perCandidate += 2L * (d + h) * head.get(0);
        for (int i = 1; i < head.size(); i++) {
            perCandidate += 2L * head.get(i - 1) * head.get(i);
        }
        perCandidate += 2L * head.get(head.size() - 1);
        return request + candidates * perCandidate;
    }
}

package io.dienflink.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The arrays a manifest calls for, with their shapes (MODEL_BUNDLE.md section 3). */
public final class BundleLayout {
    private BundleLayout() {}

    /** Array name to shape, in the order of the spec's table. */
    public static Map<String, int[]> expected(ModelConfig c) {
        int e = c.embeddingDim();
        int d = c.itemDim();
        int h = c.hiddenDim();
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("vocab.user", new int[] {c.vocab().users()});
        m.put("vocab.item", new int[] {c.vocab().items()});
        m.put("vocab.category", new int[] {c.vocab().categories()});
        m.put("embedding.user", new int[] {c.vocab().users() + 1, e});
        m.put("embedding.item", new int[] {c.vocab().items() + 1, e});
        m.put("embedding.category", new int[] {c.vocab().categories() + 1, e});
        cell(m, "extractor", d, h);
        cell(m, "evolver", h, h);
        ModelConfig.AttentionConfig att = c.attention();
        if (att.kind() == AttentionKind.DIN_MLP) {
            if (att.queryProjection()) {
                m.put("attention.query.kernel", new int[] {d, h});
                m.put("attention.query.bias", new int[] {h});
                m.put("attention.query.prelu", new int[] {h});
            }
            int in = dense(m, "attention", 4 * h, att.layers(), null);
            m.put("attention.out.kernel", new int[] {in, 1});
            m.put("attention.out.bias", new int[] {1});
        } else {
            m.put("attention.bilinear", new int[] {h, d});
        }
        int x = c.headInputDim();
        if (c.head().batchNorm()) {
            for (String s : List.of("gamma", "beta", "mean", "var")) {
                m.put("head.bn." + s, new int[] {x});
            }
        }
        int in = dense(m, "head", x, c.head().layers(), c.head().activation());
        m.put("head.out.kernel", new int[] {in, 1});
        m.put("head.out.bias", new int[] {1});
        return m;
    }

    /** Vocabulary arrays are int64; everything else is float32. */
    public static boolean isVocabulary(String name) {
        return name.startsWith("vocab.");
    }

    private static void cell(Map<String, int[]> m, String prefix, int in, int h) {
        m.put(prefix + ".kernel_x", new int[] {in, 3 * h});
        m.put(prefix + ".kernel_h", new int[] {h, 3 * h});
        m.put(prefix + ".bias_x", new int[] {3 * h});
        m.put(prefix + ".bias_h", new int[] {3 * h});
    }

    private static int dense(Map<String, int[]> m, String prefix, int in, List<Integer> layers, Activation act) {
        for (int i = 0; i < layers.size(); i++) {
            int n = layers.get(i);
            String p = prefix + ".dense" + (i + 1);
            m.put(p + ".kernel", new int[] {in, n});
            m.put(p + ".bias", new int[] {n});
            if (act == Activation.DICE) {
                m.put(p + ".dice.alpha", new int[] {n});
                m.put(p + ".dice.mean", new int[] {n});
                m.put(p + ".dice.var", new int[] {n});
            } else if (act == Activation.PRELU) {
                m.put(p + ".prelu", new int[] {n});
            }
            in = n;
        }
        return in;
    }
}

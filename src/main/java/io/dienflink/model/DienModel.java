package io.dienflink.model;

import java.nio.file.Path;

/**
 * A DIEN model packed for fast scoring: weights padded and pre-combined for the {@link Kernels},
 * batch normalisation folded into the head, vocabularies ready for lookup. Immutable and
 * thread-safe; share one instance per process (or per Flink task) and give each thread its own
 * {@link DienScorer}.
 */
public final class DienModel {
    private final ModelConfig config;
    private final String fingerprint;
    private final long fingerprint64;
    private final Kernels kernels;
    private final VocabularyIndex users;
    private final VocabularyIndex items;
    private final VocabularyIndex categories;
    private final float[] userEmbedding;
    private final float[] itemEmbedding;
    private final float[] categoryEmbedding;
    final GruCell extractor;
    final GruCell evolver;
    final DinAttention din;
    final BilinearAttention bilinear;
    final Head head;

    private DienModel(ModelBundle b, Kernels kernels) {
        this.config = b.config();
        this.fingerprint = b.fingerprint();
        this.fingerprint64 = b.fingerprint64();
        this.kernels = kernels;
        int d = config.itemDim();
        int h = config.hiddenDim();
        users = new VocabularyIndex(b.longs("vocab.user"));
        items = new VocabularyIndex(b.longs("vocab.item"));
        categories = new VocabularyIndex(b.longs("vocab.category"));
        userEmbedding = b.floats("embedding.user");
        itemEmbedding = b.floats("embedding.item");
        categoryEmbedding = b.floats("embedding.category");
        extractor = new GruCell(d, h, config.extractorReset(), b.floats("extractor.kernel_x"),
                b.floats("extractor.kernel_h"), b.floats("extractor.bias_x"), b.floats("extractor.bias_h"));
        evolver = new GruCell(h, h, config.evolver().reset(), b.floats("evolver.kernel_x"),
                b.floats("evolver.kernel_h"), b.floats("evolver.bias_x"), b.floats("evolver.bias_h"));
        if (config.attention().kind() == AttentionKind.DIN_MLP) {
            din = new DinAttention(b);
            bilinear = null;
        } else {
            din = null;
            bilinear = new BilinearAttention(b);
        }
        head = new Head(b);
    }

    /** Packs a validated bundle for the fastest kernels this JVM has. */
    public static DienModel from(ModelBundle bundle) {
        return new DienModel(bundle, Kernels.best());
    }

    /** Packs a validated bundle for the given kernels (tests compare implementations). */
    public static DienModel from(ModelBundle bundle, Kernels kernels) {
        return new DienModel(bundle, kernels);
    }

    /** Loads, validates and packs a bundle directory or zip. */
    public static DienModel load(Path path) {
        return from(BundleLoader.load(path));
    }

    public ModelConfig config() {
        return config;
    }

    /** The bundle's content hash; see {@link ModelBundle#fingerprint()}. */
    public String fingerprint() {
        return fingerprint;
    }

    /** The 64-bit fingerprint kept in each {@link InterestState}. */
    public long fingerprint64() {
        return fingerprint64;
    }

    public String modelVersion() {
        return config.modelVersion();
    }

    public Kernels kernels() {
        return kernels;
    }

    /** A new scorer (scratch buffers) for one thread, computing a request's candidates as a batch. */
    public DienScorer newScorer() {
        return new DienScorer(this);
    }

    /**
     * A new scorer that computes candidates the given way: {@link DienScorer.Batching#PER_CANDIDATE}
     * is the earlier path, kept as the benchmarks' baseline; both give the same scores to float rounding.
     */
    public DienScorer newScorer(DienScorer.Batching batching) {
        return new DienScorer(this, batching, false);
    }

    /** Writes {@code e(item, category) = [item row ; category row]} (D floats) at {@code off}. */
    void itemVector(long item, long category, float[] dst, int off) {
        int e = config.embeddingDim();
        System.arraycopy(itemEmbedding, items.row(item) * e, dst, off, e);
        System.arraycopy(categoryEmbedding, categories.row(category) * e, dst, off + e, e);
    }

    /** Adds {@code e(item, category)} to the D floats at {@code off}. */
    void addItemVector(long item, long category, float[] dst, int off) {
        int e = config.embeddingDim();
        kernels.add(dst, off, itemEmbedding, items.row(item) * e, dst, off, e);
        kernels.add(dst, off + e, categoryEmbedding, categories.row(category) * e, dst, off + e, e);
    }

    /** Writes the user's embedding (E floats) at {@code off}. */
    void userVector(long user, float[] dst, int off) {
        int e = config.embeddingDim();
        System.arraycopy(userEmbedding, users.row(user) * e, dst, off, e);
    }

    @Override
    public String toString() {
        return "DienModel[" + config.modelVersion() + ", " + fingerprint.substring(0, 12) + ", " + kernels.describe() + "]";
    }

    /** Whether {@code item} is in the item vocabulary (else it is embedded with the unknown row). */
    public boolean knowsItem(long item) {
        return items.row(item) != 0;
    }

    /** Whether {@code category} is in the category vocabulary (else it is embedded with the unknown row). */
    public boolean knowsCategory(long category) {
        return categories.row(category) != 0;
    }

    /** Whether {@code user} is in the user vocabulary (else it is embedded with the unknown row). */
    public boolean knowsUser(long user) {
        return users.row(user) != 0;
    }
}

package io.dienflink.train;

/** The three models the trainer fits with the same code on the same data. */
public enum ModelKind {
    /** Sum pooling of the history plus an MLP over {@code [e_u ; e_a ; s]} (the paper's BaseModel, the official Model_DNN). */
    BASE,
    /**
     * Attention pooling of the history's item vectors with the candidate as query, no GRU, head over
     * {@code [e_u ; e_a ; s ; e_a ∘ s ; pooled]} (DIN, the official Model_DIN).
     */
    DIN,
    /** Interest extractor GRU with the auxiliary loss, attention, AUGRU, MLP (DIEN). Exports a bundle. */
    DIEN;

    public static ModelKind parse(String s) {
        return switch (s.toLowerCase()) {
            case "base" -> BASE;
            case "din" -> DIN;
            case "dien" -> DIEN;
            default -> throw new IllegalArgumentException("--model must be dien, din or base, not '" + s + "'");
        };
    }
}

package io.dienflink.model;

/** The attention score function between a candidate and one window state. */
public enum AttentionKind {
    /** The official code's MLP over {@code [q ; h ; q − h ; q ∘ h]}. */
    DIN_MLP("din-mlp"),
    /** The paper's eq. 5: {@code s_t = h_t · (W · e_a)}. */
    BILINEAR("bilinear");

    private final String json;

    AttentionKind(String json) {
        this.json = json;
    }

    public String json() {
        return json;
    }

    static AttentionKind parse(String value, String field) {
        for (AttentionKind k : values()) {
            if (k.json.equals(value)) {
                return k;
            }
        }
        throw new BundleFormatException(field, "unknown value '" + value + "' (expected 'din-mlp' or 'bilinear')");
    }
}

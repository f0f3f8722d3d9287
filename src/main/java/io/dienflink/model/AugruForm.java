package io.dienflink.model;

/** How the AUGRU scales its keep gate by the attention weight {@code a}. */
public enum AugruForm {
    /** The official DIEN code, DeepCTR, OpenVINO: {@code u ← (1 − a)·u}. */
    CODE("code"),
    /** The paper's eq. 8, DeepCTR-Torch, FuxiCTR: {@code u ← 1 − a·(1 − u)}. */
    PAPER("paper");

    private final String json;

    AugruForm(String json) {
        this.json = json;
    }

    public String json() {
        return json;
    }

    static AugruForm parse(String value, String field) {
        for (AugruForm f : values()) {
            if (f.json.equals(value)) {
                return f;
            }
        }
        throw new BundleFormatException(field, "unknown value '" + value + "' (expected 'code' or 'paper')");
    }
}

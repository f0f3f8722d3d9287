package io.dienflink.model;

/** Where a GRU cell applies its reset gate (MODEL_BUNDLE.md section 4). */
public enum ResetMode {
    /** TensorFlow 1 {@code GRUCell}: {@code c = tanh(x·K_x.c + b_x.c + (r ∘ h)·K_h.c + b_h.c)}. */
    BEFORE("before"),
    /** PyTorch, cuDNN, Keras {@code reset_after}: {@code c = tanh(x·K_x.c + b_x.c + r ∘ (h·K_h.c + b_h.c))}. */
    AFTER("after");

    private final String json;

    ResetMode(String json) {
        this.json = json;
    }

    public String json() {
        return json;
    }

    static ResetMode parse(String value, String field) {
        for (ResetMode m : values()) {
            if (m.json.equals(value)) {
                return m;
            }
        }
        throw new BundleFormatException(field, "unknown value '" + value + "' (expected 'before' or 'after')");
    }
}

package io.dienflink.model;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/** Activation of a hidden dense layer. Attention layers allow sigmoid and relu; head layers dice, prelu and relu. */
public enum Activation {
    SIGMOID("sigmoid"),
    RELU("relu"),
    PRELU("prelu"),
    DICE("dice");

    /** Activations an attention MLP may use. */
    public static final Set<Activation> ATTENTION = EnumSet.of(SIGMOID, RELU);
    /** Activations a head MLP may use. */
    public static final Set<Activation> HEAD = EnumSet.of(DICE, PRELU, RELU);

    private final String json;

    Activation(String json) {
        this.json = json;
    }

    public String json() {
        return json;
    }

    static Activation parse(String value, String field, Set<Activation> allowed) {
        for (Activation a : allowed) {
            if (a.json.equals(value)) {
                return a;
            }
        }
        String expected = Arrays.stream(values()).filter(allowed::contains).map(a -> "'" + a.json + "'")
                .collect(Collectors.joining(", "));
        throw new BundleFormatException(field, "unknown value '" + value + "' (expected one of " + expected + ")");
    }
}

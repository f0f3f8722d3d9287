package io.dienflink.model;

/**
 * A model bundle that does not satisfy {@code MODEL_BUNDLE.md}. The message always names the
 * manifest field (for example {@code head.activation}) or the array (for example
 * {@code weights.npz: extractor.kernel_h}) at fault, so that a bad bundle stops start-up with an
 * actionable error.
 */
public final class BundleFormatException extends RuntimeException {
    private final String field;

    public BundleFormatException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    public BundleFormatException(String field, String problem, Throwable cause) {
        super(field + ": " + problem, cause);
        this.field = field;
    }

    /** The manifest field path or array name the problem is about. */
    public String field() {
        return field;
    }
}

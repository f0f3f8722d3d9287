package io.dienflink.bundleimport;

/**
 * A weights file, vocabulary or mapping that cannot be imported. The message names the variable,
 * file line or mapping field at fault and, for arrays, the expected shape.
 */
public final class ImportException extends RuntimeException {
    public ImportException(String message) {
        super(message);
    }

    public ImportException(String message, Throwable cause) {
        super(message, cause);
    }
}

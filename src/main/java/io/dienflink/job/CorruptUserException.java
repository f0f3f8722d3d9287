package io.dienflink.job;

import java.io.EOFException;

/**
 * A stored user that cannot be read: bytes of no known format, a length past any sane bound, or a
 * header and window entries that disagree. The scoring operator resets such a user (logged with its
 * key and counted in {@code corruptUsers}) instead of failing, because the same bytes would fail
 * every restart again and stop the whole job for one key; {@code migrate} does the same (the user
 * is left out of the new savepoint, logged and counted in its {@code reset}).
 */
final class CorruptUserException extends RuntimeException {
    CorruptUserException(String message) {
        super(message);
    }

    /**
     * Whether {@code e} (as thrown by a state access, possibly wrapped by the state backend) means
     * the stored bytes are unreadable, as opposed to a failure of the backend itself.
     */
    static boolean isCorruption(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CorruptUserException || t instanceof StateSerializers.CorruptStateException
                    || t instanceof EOFException) {
                return true;
            }
        }
        return false;
    }

    /** The innermost cause of {@code e}, for the one-line WARN that names the reset user. */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.toString();
    }
}

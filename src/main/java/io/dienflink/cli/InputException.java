package io.dienflink.cli;

/** A problem with the user's input that ends the command with exit code 1 and this message. */
final class InputException extends RuntimeException {
    InputException(String message) {
        super(message);
    }
}

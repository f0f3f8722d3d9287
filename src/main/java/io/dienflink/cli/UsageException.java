package io.dienflink.cli;

import java.util.List;

/** Settings that cannot work: exit code 2, each problem on its own line naming the key and the fix. */
final class UsageException extends RuntimeException {
    final List<String> lines;

    UsageException(List<String> lines) {
        super(String.join("; ", lines));
        this.lines = lines;
    }
}

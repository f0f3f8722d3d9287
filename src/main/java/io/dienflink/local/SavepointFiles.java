package io.dienflink.local;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Savepoints of the local cluster as files: their size on disk, and a copy that survives a CLAIM
 * restore (Flink deletes a claimed savepoint once the restored job's checkpoints subsume it).
 * Savepoints are relocatable, so a copy restores like the original.
 */
public final class SavepointFiles {
    private SavepointFiles() {}

    /** A savepoint's directory from what Flink prints ({@code file:/…}) or a plain path. */
    public static Path directory(String savepoint) {
        return savepoint.startsWith("file:") ? Path.of(URI.create(savepoint)) : Path.of(savepoint);
    }

    /** The bytes of every file under the savepoint's directory. */
    public static long bytes(String savepoint) throws IOException {
        try (Stream<Path> files = Files.walk(directory(savepoint))) {
            long sum = 0;
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                sum += Files.size(f);
            }
            return sum;
        }
    }

    /**
     * Copies the savepoint's directory to {@code target} (which must not exist) and returns the
     * copy's directory.
     *
     * @throws java.nio.file.FileAlreadyExistsException if {@code target} exists
     */
    public static Path copy(String savepoint, Path target) throws IOException {
        Path source = directory(savepoint).toAbsolutePath().normalize();
        if (!Files.isDirectory(source)) {
            throw new java.nio.file.NoSuchFileException(source.toString(), null, "not a savepoint directory");
        }
        if (Files.exists(target)) {
            throw new java.nio.file.FileAlreadyExistsException(target.toString());
        }
        try (Stream<Path> files = Files.walk(source)) {
            for (Path f : files.toList()) { // parents before their children
                Files.copy(f, target.resolve(source.relativize(f).toString()));
            }
        }
        return target;
    }
}

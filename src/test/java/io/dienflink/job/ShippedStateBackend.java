package io.dienflink.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;

/**
 * The cluster configuration of the tests' MiniClusters: the project's one state-backend
 * configuration (the changelog state backend over RocksDB, its state changes next to the
 * checkpoints, CLAIM restores: {@link DienScoringJob#changelogDefaults}), as every shipped cluster
 * configuration has it (deploy/, the local cluster; DeploymentFilesTest).
 */
public final class ShippedStateBackend {
    private ShippedStateBackend() {}

    /** A new configuration with a checkpoint directory of its own (a temporary directory) and the changelog next to it. */
    public static Configuration cluster() {
        Configuration c = new Configuration();
        try {
            c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, Files.createTempDirectory("dien-minicluster").toUri().toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        c.addAll(DienScoringJob.changelogDefaults(c));
        return c;
    }

    /**
     * Copies a savepoint directory (a {@code file:} URI) to {@code target} and returns the copy's
     * URI: what the upgrade runbook does before a restore claims a savepoint it wants to keep
     * (canonical savepoints are relocatable; Flink deletes a claimed one once it is subsumed).
     */
    public static String keptCopy(String savepoint, Path target) throws IOException {
        Path source = Path.of(URI.create(savepoint));
        try (Stream<Path> files = Files.walk(source)) {
            for (Path f : files.toList()) {
                Files.copy(f, target.resolve(source.relativize(f).toString()));
            }
        }
        return target.toUri().toString();
    }
}

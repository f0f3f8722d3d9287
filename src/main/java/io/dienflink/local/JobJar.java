package io.dienflink.local;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which jar is submitted to a cluster with {@code flink run}: the one place that decides it. The
 * slim job jar when the build made one, else the tool jar (which carries the job too).
 */
public final class JobJar {
    /** The job jar of the build: Flink's runtime provided, no native libraries. */
    public static final Path SLIM = Path.of("target", "dien-flink-job.jar");
    /** The tool jar: everything, including Flink's runtime. */
    public static final Path TOOL = Path.of("target", "dien-flink.jar");

    private JobJar() {}

    /** {@code chosen} if given, else {@link #SLIM} if it exists, else {@link #TOOL}; absolute. */
    public static Path resolve(Path chosen) {
        Path jar = chosen != null ? chosen : Files.exists(SLIM) ? SLIM : TOOL;
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("job jar " + jar.toAbsolutePath() + " does not exist (build it with "
                    + "`./mvnw -B package -DskipTests`, or pass --job-jar)");
        }
        return jar.toAbsolutePath().normalize();
    }
}

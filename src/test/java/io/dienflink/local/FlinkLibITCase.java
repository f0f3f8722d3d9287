package io.dienflink.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code target/flink-lib/} (filled by {@code package}) is the local cluster's classpath and must be what
 * the {@code lib/} of Flink's distribution is: Flink's runtime, able to start the JobManager, the
 * TaskManagers and Flink's CLI, and nothing that a job jar brings (the project, Kafka's client, Avro,
 * ND4J), so that a job runs from its own jar as on any Flink cluster. {@code RunbookITCase} and
 * {@code ChaosITCase} show that the job jar alone suffices on it.
 */
class FlinkLibITCase {
    /** Never on the cluster's classpath: what the job jar supplies, and what no Flink cluster has. */
    private static final List<String> FORBIDDEN = List.of("io/dienflink/", "org/apache/kafka/", "org/apache/avro/",
            "org/nd4j/", "org/bytedeco/", "org/apache/flink/connector/kafka/", "org/apache/flink/formats/avro/",
            "org/apache/flink/state/api/", "picocli/", "com/fasterxml/jackson/databind/", "org/openjdk/jmh/", "kafka/");

    /** What a cluster needs from its lib/: the entry points, RocksDB and the changelog backend, the RPC system, the web UI, the SLF4J binding. */
    private static final List<String> REQUIRED = List.of(
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
            "org.apache.flink.client.cli.CliFrontend",
            "org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend",
            "org.apache.flink.state.changelog.ChangelogStateBackend",
            "org.apache.flink.state.common.PeriodicMaterializationManager",
            "org.apache.flink.changelog.fs.FsStateChangelogStorageFactory",
            "org.apache.flink.runtime.rpc.pekko.PekkoRpcSystemLoader",
            "org.apache.flink.runtime.webmonitor.WebSubmissionExtension",
            "org.apache.logging.slf4j.SLF4JServiceProvider",
            "org.rocksdb.RocksDB");

    @Test
    void holdsFlinksRuntimeAndNothingAJobJarBrings() throws Exception {
        Path lib = LocalCluster.flinkLib();
        assertThat(lib).isEqualTo(Path.of("target", "flink-lib").toAbsolutePath().normalize());
        List<Path> jars;
        try (Stream<Path> files = Files.list(lib)) {
            jars = files.filter(f -> f.toString().endsWith(".jar")).sorted().toList();
        }
        assertThat(jars).hasSizeGreaterThan(20);
        Set<String> forbidden = new TreeSet<>();
        for (Path jar : jars) {
            try (JarFile j = new JarFile(jar.toFile())) {
                j.stream().map(e -> e.getName()).filter(n -> FORBIDDEN.stream().anyMatch(n::startsWith))
                        .map(n -> jar.getFileName() + "!" + n.substring(0, Math.max(n.lastIndexOf('/'), 0)))
                        .forEach(forbidden::add);
            }
        }
        assertThat(forbidden).as("packages on the cluster's classpath that only a job jar may bring").isEmpty();

        List<URL> urls = new ArrayList<>();
        for (Path jar : jars) {
            urls.add(jar.toUri().toURL());
        }
        List<String> missing = new ArrayList<>();
        try (URLClassLoader flink = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            for (String name : REQUIRED) {
                try {
                    Class.forName(name, false, flink);
                } catch (ClassNotFoundException e) {
                    missing.add(name);
                }
            }
        }
        assertThat(missing).as("classes a Flink cluster needs, not in " + lib).isEmpty();
        assertThat(LocalCluster.flinkClassPath().split(File.pathSeparator)).hasSameSizeAs(jars);
    }

    @Test
    void aMissingLibDirectoryIsNamedWithTheCommandThatBuildsIt(@TempDir Path empty) {
        String before = System.getProperty(LocalCluster.FLINK_LIB_PROPERTY);
        System.setProperty(LocalCluster.FLINK_LIB_PROPERTY, empty.toString());
        try {
            assertThatThrownBy(LocalCluster::flinkLib).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(empty.toString()).hasMessageContaining("./mvnw -B package");
        } finally {
            if (before == null) {
                System.clearProperty(LocalCluster.FLINK_LIB_PROPERTY);
            } else {
                System.setProperty(LocalCluster.FLINK_LIB_PROPERTY, before);
            }
        }
    }
}

package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.ArchConfiguration;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.Location;
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
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The job jar ({@code target/dien-flink-job.jar}, built by {@code package}) is what a Flink cluster runs:
 * it must hold what the job needs beside Flink's distribution and nothing of the tools (ND4J, JMH, Kafka's
 * test kit, Flink's runtime), and its main must build the job's graph when only the job jar and Flink's own
 * modules are on the class path, as under {@code flink run}.
 *
 * <p>"Flink's distribution" is approximated by this test's class path (the Maven test class path) minus
 * what the distribution does not have: the project's classes, the tool-only and test-only jars, and the
 * libraries the job jar ships itself (so that a class found there proves the job jar's copy is complete).
 */
class JobJarITCase {
    private static final long MAX_BYTES = 30L * 1024 * 1024;

    /** Never in the job jar: native or tool-only code, and Flink's own runtime. */
    private static final List<String> FORBIDDEN = List.of("org/nd4j/", "org/bytedeco/", "org/openjdk/jmh/",
            "org/apache/kafka/common/test/", "org/apache/flink/runtime/", "org/apache/flink/streaming/api/",
            "org/rocksdb/", "kafka/server/", "io/dienflink/bench/", "io/dienflink/train/", "io/dienflink/local/",
            "io/dienflink/reference/", "org/apache/flink/client/");

    /**
     * Class path jars that are not part of Flink's distribution: test and tool-only jars, and what the job jar
     * ships (a reference resolved only through one of these would fail on a cluster).
     */
    private static final Pattern NOT_PROVIDED = Pattern.compile(
            "(nd4j|javacpp|openblas|jmh|kafka-test-common|kafka_2\\.|kafka-(server|metadata|raft|storage|group|transaction"
                    + "|share|coordinator|tools|streams)|kafka-clients|scala-|jackson-|avro-|picocli|HdrHistogram|junit|assertj"
                    + "|archunit|opentest4j|apiguardian|hamcrest|flink-test-utils|flink-connector-kafka|flink-avro"
                    + "|flink-state-processor-api|flink-connector-base|zstd-jni|snappy-java|lz4-java|flatbuffers|protobuf"
                    + "|oshi|jna|commons-math3|guava|dien-flink).*");

    /**
     * References of the shipped Flink connectors (not of the project's classes) that resolve on a cluster
     * although not on this build's class path: Flink's distribution has the Table API and the file connector in
     * {@code lib/}; Joda-Time is an optional dependency of flink-avro, used only for Joda logical types.
     */
    private static final List<String> PROVIDED_ELSEWHERE = List.of("org.apache.flink.table.", "org.apache.flink.connector.file.",
            "org.joda.time.");

    private static Path jobJar;
    private static List<URL> provided;

    @BeforeAll
    static void locate() throws Exception {
        jobJar = Path.of(System.getProperty("dien.job.jar", "target/dien-flink-job.jar"));
        assertThat(jobJar).as("built by ./mvnw package").exists();
        provided = new ArrayList<>();
        // surefire and failsafe start the test JVM through a manifest-only jar and give the real class path here
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String entry : classPath.split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (entry.endsWith(".jar") && !NOT_PROVIDED.matcher(p.getFileName().toString()).matches()) {
                provided.add(p.toUri().toURL());
            }
        }
        assertThat(provided).as("Flink's modules on the test class path")
                .anySatisfy(u -> assertThat(u.getPath()).contains("flink-runtime-"))
                .anySatisfy(u -> assertThat(u.getPath()).contains("flink-streaming-java-"))
                .anySatisfy(u -> assertThat(u.getPath()).contains("flink-clients-"));
    }

    @Test
    void holdsNoToolOrRuntimeCodeAndIsSmall() throws Exception {
        long bytes = Files.size(jobJar);
        assertThat(bytes).as("job jar size").isLessThanOrEqualTo(MAX_BYTES);
        Set<String> forbidden = new TreeSet<>();
        try (JarFile jar = new JarFile(jobJar.toFile())) {
            jar.stream().map(e -> e.getName())
                    .filter(n -> FORBIDDEN.stream().anyMatch(n::startsWith) || n.startsWith("bundles/")
                            || n.contains("librocksdbjni") || n.contains("libnd4j") || n.contains("libopenblas"))
                    .forEach(forbidden::add);
            Manifest m = jar.getManifest();
            assertThat(m.getMainAttributes().getValue("Main-Class")).isEqualTo(JobMain.class.getName());
            assertThat(jar.getEntry("io/dienflink/cli/RunCommand.class")).isNotNull();
            assertThat(jar.getEntry("io/dienflink/model/BundleLoader.class")).isNotNull();
            // the online evaluation job: JobMain evaluate
            assertThat(jar.getEntry("io/dienflink/cli/EvaluateJobCommand.class")).isNotNull();
            assertThat(jar.getEntry("io/dienflink/evaluate/EvaluateJob.class")).isNotNull();
            assertThat(jar.getEntry("org/apache/flink/connector/kafka/source/KafkaSource.class")).isNotNull();
            assertThat(jar.getEntry("org/apache/kafka/clients/producer/KafkaProducer.class")).isNotNull();
            // the resources the job reads: every earlier release's Avro schemas (AvroMessages.decoder)
            try (var schemas = Files.walk(Path.of("src/main/resources/schemas"))) {
                List<String> resources = schemas.filter(Files::isRegularFile)
                        .map(f -> "schemas/" + Path.of("src/main/resources/schemas").relativize(f).toString().replace('\\', '/'))
                        .toList();
                assertThat(resources).isNotEmpty();
                assertThat(resources).allSatisfy(r -> assertThat(jar.getEntry(r)).as(r + " in the job jar").isNotNull());
            }
        }
        assertThat(forbidden).as("entries that must not be in the job jar").isEmpty();
    }

    /**
     * Every class that the project's classes and the shipped Flink connectors in the job jar reference is in
     * the job jar, in Flink's modules or in the JDK. (Third-party libraries are shipped whole, as their authors
     * publish them, so their own optional references are not followed.) The project's classes get no allowance.
     */
    @Test
    void everyReferencedClassIsInTheJobJarOrFlink() throws Exception {
        ArchConfiguration.get().setResolveMissingDependenciesFromClassPath(false);
        Set<String> inJar;
        try (JarFile jar = new JarFile(jobJar.toFile())) {
            inJar = jar.stream().map(e -> e.getName()).filter(n -> n.endsWith(".class"))
                    .collect(Collectors.toSet());
        }
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(location -> location.contains("/io/dienflink/") || location.contains("/org/apache/flink/"))
                .importLocations(Set.of(Location.of(new URL("jar:" + jobJar.toUri() + "!/"))));
        assertThat(classes.size()).isGreaterThan(100);
        Set<String> missing = new TreeSet<>();
        try (URLClassLoader flink = new URLClassLoader(provided.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            for (JavaClass c : classes) {
                for (Dependency d : c.getDirectDependenciesFromSelf()) {
                    JavaClass target = d.getTargetClass().getBaseComponentType();
                    if (target.isPrimitive()) {
                        continue;
                    }
                    String resource = target.getName().replace('.', '/') + ".class";
                    boolean ours = c.getName().startsWith("io.dienflink.");
                    if (!inJar.contains(resource) && flink.getResource(resource) == null
                            && (ours || PROVIDED_ELSEWHERE.stream().noneMatch(target.getName()::startsWith))) {
                        missing.add(target.getName() + " (from " + c.getName() + ")");
                    }
                }
            }
        }
        assertThat(missing).as("classes referenced by the job jar but in neither it nor Flink's modules").isEmpty();
    }

    /**
     * The job jar's main builds the scoring job's graph the way {@code flink run} does (Flink's
     * {@code PackagedProgram}, child-first user class loader), with only Flink's modules as the parent class
     * loader: the production {@code run} path loads the bundle and wires the Kafka sources and sinks.
     */
    @Test
    void mainBuildsTheJobGraphWithOnlyFlinkBesideIt() throws Exception {
        Path bundle = Path.of("bundles/demo").toAbsolutePath();
        String[] args = {"--bootstrap-servers", "localhost:9", "--model", bundle.toString(),
                "-Ddien.delivery-guarantee=AT_LEAST_ONCE", "-Dexecution.checkpointing.dir=file:///tmp/dien-job-jar-it"};
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        try (URLClassLoader flink = new URLClassLoader(provided.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            Thread.currentThread().setContextClassLoader(flink);
            Class<?> confClass = flink.loadClass("org.apache.flink.configuration.Configuration");
            Object conf = confClass.getConstructor().newInstance();
            Class<?> programClass = flink.loadClass("org.apache.flink.client.program.PackagedProgram");
            Object builder = programClass.getMethod("newBuilder").invoke(null);
            builder.getClass().getMethod("setJarFile", File.class).invoke(builder, jobJar.toFile());
            builder.getClass().getMethod("setArguments", String[].class).invoke(builder, (Object) args);
            builder.getClass().getMethod("setConfiguration", confClass).invoke(builder, conf);
            Object program = builder.getClass().getMethod("build").invoke(builder);
            Class<?> utils = flink.loadClass("org.apache.flink.client.program.PackagedProgramUtils");
            Object jobGraph = utils.getMethod("createJobGraph", programClass, confClass, int.class, boolean.class)
                    .invoke(null, program, conf, 1, false);
            List<String> vertices = new ArrayList<>();
            for (Object v : (Iterable<?>) jobGraph.getClass().getMethod("getVertices").invoke(jobGraph)) {
                vertices.add((String) v.getClass().getMethod("getName").invoke(v));
            }
            assertThat(String.join(" | ", vertices)).contains("DIEN interest state and scoring").contains("Kafka CTR scores")
                    .contains("Kafka clicks");
            // the job's classes came from the job jar, not from this test's class path
            ClassLoader userLoader = (ClassLoader) programClass.getMethod("getUserCodeClassLoader").invoke(program);
            assertThat(userLoader.loadClass(JobMain.class.getName()).getClassLoader()).isNotSameAs(getClass().getClassLoader());
            assertThat(userLoader.getResource("org/nd4j/linalg/factory/Nd4j.class")).isNull();
            programClass.getMethod("close").invoke(program);
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }
}

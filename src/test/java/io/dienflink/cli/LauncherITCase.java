package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/dien-flink}, run as a process after {@code package}: it finds a Java 17+, starts the tool jar with
 * the Vector API module on, passes arguments through, and fails with a clear message when it cannot.
 */
class LauncherITCase {
    private static final Path LAUNCHER = Path.of(System.getProperty("dien.launcher", "bin/dien-flink")).toAbsolutePath();
    private static final Path TOOL_JAR = Path.of(System.getProperty("dien.jar", "target/dien-flink.jar")).toAbsolutePath();

    @TempDir
    Path tmp;

    record Result(int exit, String out, String err) {}

    private static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("DIEN_FLINK_JAR");
        pb.environment().remove("DIEN_FLINK_JAVA_OPTS");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        Process p = pb.start();
        p.getOutputStream().close();
        // read both streams fully; the commands here print little
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("process ended").isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void launcherIsCommittedExecutableAndStartsTheToolJarWithTheVectorApi() throws Exception {
        assertThat(LAUNCHER).isExecutable();
        assertThat(TOOL_JAR).as("built by ./mvnw package").exists();
        Result r = run(Map.of(), LAUNCHER.toString(), "--version");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("dien-flink ").contains("Vector API: on");
        assertThat(r.err()).doesNotContain("started without --add-modules");

        // a real subcommand with its arguments passed through: loads and validates the shipped bundle
        Result inspect = run(Map.of(), LAUNCHER.toString(), "bundle", "inspect", "--model", Path.of("bundles/demo").toAbsolutePath().toString());
        assertThat(inspect.exit()).as(inspect.err()).isZero();
        assertThat(inspect.out()).containsIgnoringCase("fingerprint");
    }

    @Test
    void javaDashJarWithoutTheFlagStillWorksWithTheScalarKernels() throws Exception {
        Result r = run(Map.of(), Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", TOOL_JAR.toString(), "--version");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Vector API: off");
    }

    @Test
    void findsJavaOnThePathWithoutJavaHome() throws Exception {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("JAVA_HOME", null);
        env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":/usr/bin:/bin");
        Result r = run(env, LAUNCHER.toString(), "--version");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Vector API: on");
    }

    @Test
    void explainsWhatIsMissing() throws Exception {
        Result badHome = run(Map.of("JAVA_HOME", tmp.resolve("no-java").toString()), LAUNCHER.toString(), "--version");
        assertThat(badHome.exit()).isEqualTo(2);
        assertThat(badHome.err()).contains("JAVA_HOME").contains("not an executable");

        // a Java older than 17, faked by a script that prints what Java 11 prints
        Path fakeHome = tmp.resolve("jdk11");
        Files.createDirectories(fakeHome.resolve("bin"));
        Path fakeJava = fakeHome.resolve("bin/java");
        Files.writeString(fakeJava, "#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n");
        Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));
        Result old = run(Map.of("JAVA_HOME", fakeHome.toString()), LAUNCHER.toString(), "--version");
        assertThat(old.exit()).isEqualTo(2);
        assertThat(old.err()).contains("Java 11.0.2").contains("Java 17 or newer is needed");

        Map<String, String> noJava = new java.util.HashMap<>();
        noJava.put("JAVA_HOME", null);
        noJava.put("PATH", tmp.toString());
        List<String> cmd = new ArrayList<>(List.of("/bin/bash", LAUNCHER.toString(), "--version"));
        Result none = run(noJava, cmd.toArray(String[]::new));
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("no Java found");

        Result noJar = run(Map.of("DIEN_FLINK_JAR", tmp.resolve("missing.jar").toString()), LAUNCHER.toString(), "--version");
        assertThat(noJar.exit()).isEqualTo(2);
        assertThat(noJar.err()).contains("no tool jar at").contains("missing.jar");
    }
}

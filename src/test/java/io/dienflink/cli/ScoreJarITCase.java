package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.model.GoldenCases;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shaded jar as a user runs it ({@code java -jar target/dien-flink.jar score ...}): main class,
 * bundled resources and native libraries work, logs stay on stderr, and every golden case matches.
 */
class ScoreJarITCase {
    @TempDir
    Path tmp;

    private static Path jar() {
        Path jar = Path.of(System.getProperty("dien.jar", "target/dien-flink.jar"));
        assertThat(jar).as("the shaded jar (built by `package`)").exists();
        return jar;
    }

    private record Run(int exit, String out, String err) {}

    private Run java(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("score finishes").isTrue();
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"official", "torch", "bilinear"})
    void jarScoresGoldenCasesInBothModes(String bundle) throws Exception {
        GoldenCases.Golden golden = GoldenCases.load(bundle);
        Path input = GoldenInput.write(golden, tmp);
        for (String mode : new String[] {"streaming", "windowed"}) {
            Run r = java("score", "--model", GoldenCases.bundleDir(bundle).toString(), "--input", input.toString(), "--mode", mode);
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.err()).contains("Using Vector API kernels");
            assertThat(GoldenInput.maxError(golden, r.out(), mode.equals("windowed"))).as(mode)
                    .isLessThanOrEqualTo(golden.tolerance().ctr());
        }
    }
}

package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.model.GoldenCases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code score} subcommand in-process: golden parity in both modes, and its error contract. */
class ScoreCommandTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"official,streaming", "official,windowed", "torch,streaming", "torch,windowed",
            "bilinear,streaming", "bilinear,windowed"})
    void scoresEveryGoldenCase(String bundle, String mode) throws IOException {
        GoldenCases.Golden golden = GoldenCases.load(bundle);
        Path input = GoldenInput.write(golden, tmp);
        CliRun r = CliRun.of("score", "--model", GoldenCases.bundleDir(bundle).toString(), "--input", input.toString(), "--mode", mode);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(GoldenInput.maxError(golden, r.out(), mode.equals("windowed"))).isLessThanOrEqualTo(golden.tolerance().ctr());
    }

    @Test
    void unparseableLineStopsWithItsNumber() throws IOException {
        Path input = Files.write(tmp.resolve("bad.jsonl"), List.of(
                "{\"userId\": 1, \"clicks\": [], \"candidates\": [{\"itemId\": 4, \"categoryId\": 5}]}",
                "",
                "{\"userId\": 2, \"clicks\": [{\"itemId\": 3}], \"candidates\": []}",
                "{\"userId\": 3, \"clicks\": [], \"candidates\": []}"));
        CliRun r = CliRun.of("score", "--model", GoldenCases.bundleDir("torch").toString(), "--input", input.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("line 3").contains("clicks[0].categoryId");
        assertThat(r.out().strip().split("\n")).hasSize(1).allMatch(l -> l.startsWith("{\"ctr\":["));
    }

    @Test
    void invalidJsonNamesTheLine() throws IOException {
        Path input = Files.write(tmp.resolve("bad.jsonl"), List.of("{\"userId\": 1,"));
        CliRun r = CliRun.of("score", "--model", GoldenCases.bundleDir("torch").toString(), "--input", input.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("line 1: not valid JSON");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void badBundleAndBadModeAreReported() throws IOException {
        Path input = Files.write(tmp.resolve("ok.jsonl"), List.of("{\"userId\": 1, \"clicks\": [], \"candidates\": []}"));
        CliRun noBundle = CliRun.of("score", "--model", tmp.resolve("missing").toString(), "--input", input.toString());
        assertThat(noBundle.exit()).isEqualTo(1);
        assertThat(noBundle.err()).contains("no such bundle");
        CliRun badMode = CliRun.of("score", "--model", GoldenCases.bundleDir("torch").toString(), "--input", input.toString(), "--mode", "batch");
        assertThat(badMode.exit()).isEqualTo(2);
        assertThat(badMode.err()).contains("--mode must be streaming or windowed");
    }

    @Test
    void everySubcommandHasHelp() {
        for (String sub : Main.commandLine().getSubcommands().keySet()) {
            if (sub.equals("help")) {
                continue;
            }
            CliRun r = CliRun.of(sub, "--help");
            assertThat(r.exit()).as(sub).isZero();
            assertThat(r.out()).as(sub).contains("Usage: dien-flink " + sub);
        }
    }
}

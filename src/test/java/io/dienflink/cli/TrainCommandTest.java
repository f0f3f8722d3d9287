package io.dienflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.model.ModelBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code train} subcommand's contract on a small synthetic run and on the official-format sample. */
class TrainCommandTest {
    @TempDir
    Path tmp;

    @Test
    void dienWritesBundleCardAndCurvesAndEndsWithTheSummaryLine() throws Exception {
        Path dir = tmp.resolve("dien");
        CliRun r = CliRun.of("train", "--data", "synthetic", "--model", "dien", "--output", dir.toString(), "--samples", "3000",
                "--max-history", "8", "--epochs", "2", "--seed", "4");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out().strip()).matches("train model=dien auc=0\\.\\d{4} logloss=\\d\\.\\d{4} samples_per_s=\\d+");
        // (whether training learns is TrainerConsistencyTest's: 3,000 examples are too few to tell)
        assertThat(r.err()).contains("epoch 2/2").contains("ETA").contains("test AUC");
        ModelBundle b = ModelBundle.load(dir);
        assertThat(b.config().modelVersion()).isEqualTo("dien-synthetic-seed4");
        assertThat(b.config().maxHistory()).isEqualTo(8);
        assertThat(Files.readString(dir.resolve("MODEL_CARD.md"))).contains("seed 4").contains("| 2 |")
                .contains("streaming semantics").contains(b.fingerprint());
        byte[] png = Files.readAllBytes(dir.resolve("training.png"));
        assertThat(png).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    }

    @Test
    void baselinesTrainWithoutBundleAndOfficialFormatIsRead() {
        Path dir = tmp.resolve("din");
        CliRun r = CliRun.of("train", "--data", "src/test/resources/official-format-sample.txt", "--model", "din", "--output",
                dir.toString(), "--epochs", "1", "--max-history", "10");
        assertThat(r.exit()).as(r.err()).isZero();
        // the sample holds out one user with one (negative) example: no AUC, and a warning says why
        assertThat(r.out().strip()).matches("train model=din auc=NaN logloss=\\d+\\.\\d{4} samples_per_s=\\d+");
        assertThat(r.err()).contains("warning: every held-out example has label 0");
        assertThat(dir.resolve("model.json")).doesNotExist();
        assertThat(dir.resolve("MODEL_CARD.md")).exists();
        CliRun bad = CliRun.of("train", "--data", "synthetic", "--model", "lstm", "--output", dir.toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--model must be dien, din or base");
        CliRun noEpochs = CliRun.of("train", "--data", "synthetic", "--model", "din", "--output", dir.toString(), "--epochs", "0");
        assertThat(noEpochs.exit()).isEqualTo(2);
        assertThat(noEpochs.err()).contains("epochs must be at least 1, got 0");
    }
}

package io.dienflink.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavepointFilesTest {
    @TempDir
    Path tmp;

    @Test
    void sizesAndCopiesASavepointDirectoryGivenAsUriOrPath() throws Exception {
        Path sp = Files.createDirectories(tmp.resolve("savepoint-abc"));
        Files.write(sp.resolve("_metadata"), new byte[100]);
        Files.createDirectories(sp.resolve("op"));
        Files.write(sp.resolve("op").resolve("part-0"), new byte[1_000]);
        String uri = sp.toUri().toString(); // file:/…/savepoint-abc/, as Flink prints it
        assertThat(SavepointFiles.directory(uri)).isEqualTo(sp);
        assertThat(SavepointFiles.bytes(uri)).isEqualTo(1_100);
        assertThat(SavepointFiles.bytes(sp.toString())).isEqualTo(1_100);

        Path copy = SavepointFiles.copy(uri, tmp.resolve("kept"));
        assertThat(copy.resolve("op").resolve("part-0")).hasSize(1_000);
        assertThat(SavepointFiles.bytes(copy.toString())).isEqualTo(1_100);
        assertThat(sp.resolve("_metadata")).exists(); // the original stays
        assertThatThrownBy(() -> SavepointFiles.copy(uri, tmp.resolve("kept"))).isInstanceOf(FileAlreadyExistsException.class);
    }
}

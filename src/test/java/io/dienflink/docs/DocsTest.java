package io.dienflink.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.model.GoldenCases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The documents that make promises about the build stay true to it. */
class DocsTest {

    @Test
    void bundleFormatCopyIsTheSharedContract() throws IOException {
        Path shared = GoldenCases.sharedDir().resolve("spec").resolve("MODEL_BUNDLE.md");
        assertThat(Path.of("docs/MODEL_BUNDLE.md")).as("docs/MODEL_BUNDLE.md is a copy of " + shared
                + "; copy it again when the spec changes").hasSameTextualContentAs(shared);
    }

    @Test
    void ciRunsTheReadmeTestCommand() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        String ci = Files.readString(Path.of(".ci/run"));
        assertThat(readme).contains("./mvnw -B verify");
        assertThat(ci).contains("./mvnw -B verify");
    }
}

package io.dienflink.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The demo bundle that ships with the project: {@code bundles/demo-untrained} when run from the
 * checkout, else the copy inside the jar, extracted to a temporary directory.
 */
final class ShippedBundle {
    static final String NAME = "demo-untrained";

    private ShippedBundle() {}

    static Path resolve() throws IOException {
        Path local = Path.of("bundles", NAME);
        if (Files.isRegularFile(local.resolve("model.json"))) {
            return local;
        }
        Path dir = Files.createTempDirectory("dien-bundle");
        for (String f : new String[] {"model.json", "weights.npz"}) {
            try (InputStream in = ShippedBundle.class.getResourceAsStream("/bundles/" + NAME + "/" + f)) {
                if (in == null) {
                    throw new IOException("the jar has no shipped bundle " + NAME + "; pass --model");
                }
                Files.copy(in, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        dir.toFile().deleteOnExit();
        return dir;
    }
}

package io.dienflink.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Bundles that ship with the project: {@code bundles/<name>} when run from the checkout, else the
 * copy inside the jar, extracted to a temporary directory. {@value #DEMO} is DIEN trained on the
 * synthetic traffic; {@value #UNTRAINED} has random weights of the official dimensions with T = 100
 * (the end-to-end benchmark's model, whose speed does not depend on the weights).
 */
final class ShippedBundle {
    static final String DEMO = "demo";
    static final String UNTRAINED = "demo-untrained";

    private ShippedBundle() {}

    static Path resolve(String name) throws IOException {
        Path local = Path.of("bundles", name);
        if (Files.isRegularFile(local.resolve("model.json"))) {
            return local;
        }
        Path dir = Files.createTempDirectory("dien-bundle");
        // deleteOnExit runs in reverse order of registration: the files, then the (then empty) directory
        dir.toFile().deleteOnExit();
        for (String f : new String[] {"model.json", "weights.npz"}) {
            Path target = dir.resolve(f);
            target.toFile().deleteOnExit();
            try (InputStream in = ShippedBundle.class.getResourceAsStream("/bundles/" + name + "/" + f)) {
                if (in == null) {
                    throw new IOException("the jar has no shipped bundle " + name + "; pass --model");
                }
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }
}

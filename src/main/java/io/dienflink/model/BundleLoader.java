package io.dienflink.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a bundle from a directory or a zip of one (MODEL_BUNDLE.md section 1). The manifest is
 * parsed and validated first, then the npz headers are checked against it (so a missing, mistyped
 * or misshapen array is named before any data is read), then the arrays are read in plain Java
 * ({@link NpzFormat#readArrays}: no native code on the serving path, so a job can be resubmitted to
 * the same cluster), then the values are validated.
 */
public final class BundleLoader {
    public static final String MANIFEST = "model.json";
    public static final String WEIGHTS = "weights.npz";

    private static final Logger LOG = LoggerFactory.getLogger(BundleLoader.class);

    private BundleLoader() {}

    /**
     * Loads and validates a bundle.
     *
     * @param path a directory holding {@code model.json} and {@code weights.npz}, or a zip holding them
     *     at its root or in one top-level folder
     * @throws BundleFormatException naming the file, field or array that is missing or invalid
     */
    public static ModelBundle load(Path path) {
        if (Files.isDirectory(path)) {
            return loadFiles(readManifest(path.resolve(MANIFEST)), path.resolve(WEIGHTS), path.toString());
        }
        if (!Files.isRegularFile(path)) {
            throw new BundleFormatException(path.toString(), "no such bundle directory or zip file");
        }
        try (ZipFile zip = new ZipFile(path.toFile())) {
            ZipEntry manifest = find(zip, MANIFEST, path);
            ZipEntry weights = find(zip, WEIGHTS, path);
            byte[] json;
            try (InputStream in = zip.getInputStream(manifest)) {
                json = in.readAllBytes();
            }
            // The npz is itself a zip read with random access (ZipFile), so it is copied out of the bundle's zip once.
            Path tmp = Files.createTempFile("dien-weights", ".npz");
            try {
                try (InputStream in = zip.getInputStream(weights)) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                return loadFiles(json, tmp, path.toString());
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new BundleFormatException(path.toString(), "is neither a bundle directory nor a readable zip: " + e.getMessage(), e);
        }
    }

    private static ZipEntry find(ZipFile zip, String name, Path path) {
        ZipEntry found = null;
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            ZipEntry e = entries.nextElement();
            String n = e.getName();
            int depth = (int) n.chars().filter(ch -> ch == '/').count();
            if (!e.isDirectory() && (n.equals(name) || depth == 1 && n.endsWith("/" + name))) {
                if (found != null) {
                    throw new BundleFormatException(name, "appears more than once in " + path);
                }
                found = e;
            }
        }
        if (found == null) {
            throw new BundleFormatException(name, "is missing from " + path);
        }
        return found;
    }

    private static byte[] readManifest(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BundleFormatException(MANIFEST, "cannot be read: " + e, e);
        }
    }

    private static ModelBundle loadFiles(byte[] manifestJson, Path weightsFile, String source) {
        long start = System.nanoTime();
        ModelConfig config = ModelConfig.parse(manifestJson);
        if (!Files.isRegularFile(weightsFile)) {
            throw new BundleFormatException(WEIGHTS, "is missing from " + source);
        }
        Map<String, int[]> expected = BundleLayout.expected(config);
        Map<String, NpzFormat.Header> headers = NpzFormat.readHeaders(weightsFile, WEIGHTS);
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            String field = WEIGHTS + ": " + e.getKey();
            NpzFormat.Header h = headers.get(e.getKey());
            if (h == null) {
                throw new BundleFormatException(field, "is missing (required by the manifest)");
            }
            if (h.compressed()) {
                throw new BundleFormatException(field, "is compressed; bundles are written with np.savez, not np.savez_compressed");
            }
            ModelBundle.checkDtype(field, h.descr(), BundleLayout.isVocabulary(e.getKey()));
            if (h.fortranOrder()) {
                throw new BundleFormatException(field, "is stored in Fortran order (fortran_order: True); bundles are in C order");
            }
            if (!Arrays.equals(h.shape(), e.getValue())) {
                throw new BundleFormatException(field, "has shape " + Arrays.toString(h.shape()) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
        }
        headers.keySet().stream().filter(n -> !expected.containsKey(n))
                .forEach(n -> LOG.warn("{}: array {} is not used by this manifest and is ignored", source, n));

        Map<String, NpyArray> arrays = new HashMap<>(NpzFormat.readArrays(weightsFile, WEIGHTS, expected::containsKey));
        ModelBundle bundle = ModelBundle.of(config, arrays);
        LOG.info("Loaded bundle {} ({}) from {} in {} ms", config.modelVersion(), bundle.fingerprint().substring(0, 12),
                source, (System.nanoTime() - start) / 1_000_000);
        return bundle;
    }
}

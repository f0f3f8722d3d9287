package io.dienflink.model;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A validated DIEN model bundle (MODEL_BUNDLE.md, format version 1): the manifest and every array
 * the manifest calls for, in the bundle's own layout. {@link DienModel} packs it for fast scoring;
 * the ND4J reference path and the trainer read it directly.
 *
 * <p>Every instance has passed the checks of {@link #of}: arrays present with the right shape and dtype,
 * weights finite, vocabularies strictly increasing.
 */
public final class ModelBundle {
    private final ModelConfig config;
    private final Map<String, NpyArray> arrays;
    private final String fingerprint;

    private ModelBundle(ModelConfig config, Map<String, NpyArray> arrays) {
        this.config = config;
        this.arrays = Collections.unmodifiableMap(new LinkedHashMap<>(arrays));
        this.fingerprint = computeFingerprint(config, this.arrays);
    }

    /**
     * Validates and wraps arrays built in memory (by the trainer or an importer).
     *
     * @throws BundleFormatException naming the first array or field that breaks the format
     */
    public static ModelBundle of(ModelConfig config, Map<String, NpyArray> arrays) {
        validate(config, arrays);
        Map<String, NpyArray> ordered = new LinkedHashMap<>();
        for (String name : BundleLayout.expected(config).keySet()) {
            ordered.put(name, arrays.get(name));
        }
        return new ModelBundle(config, ordered);
    }

    /** Loads a bundle directory or a zip of one; see {@link BundleLoader#load(Path)}. */
    public static ModelBundle load(Path path) {
        return BundleLoader.load(path);
    }

    public ModelConfig config() {
        return config;
    }

    /** The arrays by name, in the order of MODEL_BUNDLE.md section 3. */
    public Map<String, NpyArray> arrays() {
        return arrays;
    }

    public NpyArray array(String name) {
        NpyArray a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no array " + name);
        }
        return a;
    }

    public float[] floats(String name) {
        return array(name).floats();
    }

    public long[] longs(String name) {
        return array(name).longs();
    }

    /**
     * SHA-256 (hex) of everything that affects the computation: the manifest without its free-text
     * {@code modelVersion}, and every array's name, type, shape and values. A directory and a zip of
     * it, or the same model re-saved with other JSON formatting, have the same fingerprint; a change
     * of any weight gives another.
     */
    public String fingerprint() {
        return fingerprint;
    }

    /** The first 64 bits of {@link #fingerprint()}, as kept in every user's interest state. */
    public long fingerprint64() {
        return Long.parseUnsignedLong(fingerprint.substring(0, 16), 16);
    }

    /** Writes {@code model.json} and {@code weights.npz} into {@code dir} (created if absent). */
    public void writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(BundleLoader.MANIFEST), config.toJson());
        try (OutputStream out = Files.newOutputStream(dir.resolve(BundleLoader.WEIGHTS))) {
            NpzFormat.write(out, arrays);
        }
    }

    /**
     * Checks arrays against a manifest: every array of section 3 present with its shape and dtype,
     * float weights finite, variances non-negative, vocabularies strictly increasing. Arrays the
     * manifest does not call for are ignored.
     *
     * @throws BundleFormatException naming the array at fault
     */
    private static void validate(ModelConfig config, Map<String, NpyArray> arrays) {
        for (Map.Entry<String, int[]> e : BundleLayout.expected(config).entrySet()) {
            String name = e.getKey();
            String field = "weights.npz: " + name;
            NpyArray a = arrays.get(name);
            if (a == null) {
                throw new BundleFormatException(field, "is missing (required by the manifest)");
            }
            boolean vocab = BundleLayout.isVocabulary(name);
            checkDtype(field, a.descr(), vocab);
            if (!Arrays.equals(a.shape(), e.getValue())) {
                throw new BundleFormatException(field, "has shape " + Arrays.toString(a.shape()) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
            if (vocab) {
                long[] ids = a.longs();
                for (int i = 1; i < ids.length; i++) {
                    if (ids[i] <= ids[i - 1]) {
                        throw new BundleFormatException(field, "is not strictly increasing at index " + i + " ("
                                + ids[i - 1] + " then " + ids[i] + ")");
                    }
                }
            } else {
                float[] w = a.floats();
                boolean variance = name.endsWith(".var");
                for (int i = 0; i < w.length; i++) {
                    if (!Float.isFinite(w[i])) {
                        throw new BundleFormatException(field, "has a non-finite value " + w[i] + " at flat index " + i);
                    }
                    if (variance && w[i] < 0f) {
                        throw new BundleFormatException(field, "has a negative variance " + w[i] + " at index " + i);
                    }
                }
            }
        }
    }

    static void checkDtype(String field, String descr, boolean vocab) {
        String want = vocab ? "<i8" : "<f4";
        if (!want.equals(descr)) {
            throw new BundleFormatException(field, "has dtype " + descr + ", expected " + want
                    + (vocab ? " (int64)" : " (float32)"));
        }
    }

    private static String computeFingerprint(ModelConfig config, Map<String, NpyArray> arrays) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(config.withModelVersion("").toJson());
            for (Map.Entry<String, NpyArray> e : new TreeMap<>(arrays).entrySet()) {
                NpyArray a = e.getValue();
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update(a.descr().getBytes(StandardCharsets.US_ASCII));
                ByteBuffer shape = ByteBuffer.allocate(4 * a.shape().length);
                for (int d : a.shape()) {
                    shape.putInt(d);
                }
                sha.update(shape.array());
                sha.update(NpzFormat.dataBytes(a));
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "ModelBundle[" + config.modelVersion() + ", " + fingerprint.substring(0, 12) + "]";
    }
}

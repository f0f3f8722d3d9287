package io.dienflink.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader accepts the golden bundles in every packaging and rejects each kind of bad bundle of
 * MODEL_BUNDLE.md section 2 with a message naming the field or array at fault.
 */
class BundleLoaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static ModelBundle official() {
        return GoldenCases.bundle("official");
    }

    /** Writes the official bundle with a modified manifest and arrays, as a directory. */
    private Path write(Consumer<ObjectNode> manifest, Consumer<Map<String, NpyArray>> arrays) throws IOException {
        ModelBundle b = official();
        ObjectNode json = (ObjectNode) JSON.readTree(b.config().toJson());
        manifest.accept(json);
        Map<String, NpyArray> a = new LinkedHashMap<>(b.arrays());
        arrays.accept(a);
        Path dir = Files.createTempDirectory(tmp, "bundle");
        Files.write(dir.resolve("model.json"), JSON.writeValueAsBytes(json));
        try (OutputStream out = Files.newOutputStream(dir.resolve("weights.npz"))) {
            NpzFormat.write(out, a);
        }
        return dir;
    }

    private void assertRejected(Path bundle, String field, String problem) {
        assertThatThrownBy(() -> BundleLoader.load(bundle))
                .isInstanceOf(BundleFormatException.class)
                .hasMessageContaining(problem)
                .satisfies(e -> assertThat(((BundleFormatException) e).field()).isEqualTo(field));
    }

    @Test
    void loadsEveryGoldenBundleWithItsManifest() {
        for (String name : GoldenCases.BUNDLES) {
            ModelBundle b = GoldenCases.bundle(name);
            assertThat(b.config().modelVersion()).startsWith(name + "-");
            assertThat(b.arrays().keySet()).containsExactlyElementsOf(BundleLayout.expected(b.config()).keySet());
        }
        assertThat(official().config().head().batchNormEpsilon()).isEqualTo(1e-3f);
        assertThat(official().floats("head.dense1.kernel")).hasSize(162 * 200);
    }

    @Test
    void directoryZipAndRewrittenCopiesShareOneFingerprint() throws IOException {
        ModelBundle b = official();
        Path dir = tmp.resolve("copy");
        b.writeTo(dir);
        Path flatZip = tmp.resolve("flat.zip");
        b.writeZip(flatZip);
        Path nestedZip = tmp.resolve("nested.zip");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(nestedZip))) {
            for (String f : new String[] {"model.json", "weights.npz"}) {
                zip.putNextEntry(new ZipEntry("official/" + f));
                zip.write(Files.readAllBytes(GoldenCases.bundleDir("official").resolve(f)));
                zip.closeEntry();
            }
        }
        for (Path p : new Path[] {dir, flatZip, nestedZip}) {
            ModelBundle loaded = BundleLoader.load(p);
            assertThat(loaded.fingerprint()).as(p.toString()).isEqualTo(b.fingerprint());
            assertThat(loaded.floats("extractor.kernel_h")).containsExactly(b.floats("extractor.kernel_h"));
        }
    }

    @Test
    void fingerprintIgnoresModelVersionButNotWeights() throws IOException {
        ModelBundle renamed = BundleLoader.load(write(j -> j.put("modelVersion", "renamed"), a -> {}));
        assertThat(renamed.fingerprint()).isEqualTo(official().fingerprint());
        ModelBundle changed = BundleLoader.load(write(j -> {}, a -> {
            float[] w = a.get("head.out.bias").floats().clone();
            w[0] += 1e-6f;
            a.put("head.out.bias", NpyArray.vector(w));
        }));
        assertThat(changed.fingerprint()).isNotEqualTo(official().fingerprint());
        assertThat(changed.fingerprint64()).isNotEqualTo(official().fingerprint64());
    }

    @Test
    void manifestRoundTripsThroughJson() {
        for (String name : GoldenCases.BUNDLES) {
            ModelConfig c = GoldenCases.bundle(name).config();
            assertThat(ModelConfig.parse(c.toJson())).isEqualTo(c);
        }
    }

    @Test
    void rejectsMissingArray() throws IOException {
        assertRejected(write(j -> {}, a -> a.remove("evolver.kernel_h")), "weights.npz: evolver.kernel_h", "is missing");
    }

    @Test
    void rejectsWrongShape() throws IOException {
        assertRejected(write(j -> {}, a -> a.put("attention.dense2.bias", NpyArray.vector(new float[41]))),
                "weights.npz: attention.dense2.bias", "has shape [41], expected [40]");
    }

    @Test
    void rejectsWrongDtype() throws IOException {
        assertRejected(write(j -> {}, a -> a.put("head.out.bias", NpyArray.ofDoubles(new int[] {1}, new double[] {0.5}))),
                "weights.npz: head.out.bias", "has dtype <f8, expected <f4");
        assertRejected(write(j -> {}, a -> a.put("vocab.user", NpyArray.ofInts(new int[] {12}, new int[12]))),
                "weights.npz: vocab.user", "has dtype <i4, expected <i8");
    }

    @Test
    void rejectsNaNAndInfiniteWeights() throws IOException {
        assertRejected(write(j -> {}, a -> a.put("head.dense2.bias", withValue(a.get("head.dense2.bias"), 7, Float.NaN))),
                "weights.npz: head.dense2.bias", "non-finite value NaN at flat index 7");
        assertRejected(write(j -> {}, a -> a.put("embedding.item",
                        withValue(a.get("embedding.item"), 30, Float.POSITIVE_INFINITY))),
                "weights.npz: embedding.item", "non-finite value Infinity at flat index 30");
    }

    @Test
    void rejectsNegativeVariance() throws IOException {
        assertRejected(write(j -> {}, a -> a.put("head.bn.var", withValue(a.get("head.bn.var"), 3, -0.5f))),
                "weights.npz: head.bn.var", "negative variance");
    }

    @Test
    void rejectsUnknownFormatVersion() throws IOException {
        assertRejected(write(j -> j.put("formatVersion", 2), a -> {}), "formatVersion", "unknown format version 2");
        assertRejected(write(j -> j.put("format", "dien"), a -> {}), "format", "unknown value 'dien'");
    }

    @Test
    void rejectsUnknownOptionValues() throws IOException {
        assertRejected(write(j -> ((ObjectNode) j.get("extractor")).put("reset", "middle"), a -> {}),
                "extractor.reset", "unknown value 'middle'");
        assertRejected(write(j -> ((ObjectNode) j.get("evolver")).put("form", "poem"), a -> {}),
                "evolver.form", "unknown value 'poem'");
        assertRejected(write(j -> ((ObjectNode) j.get("attention")).put("kind", "transformer"), a -> {}),
                "attention.kind", "unknown value 'transformer'");
        assertRejected(write(j -> ((ObjectNode) j.get("attention")).put("activation", "dice"), a -> {}),
                "attention.activation", "unknown value 'dice'");
        assertRejected(write(j -> ((ObjectNode) j.get("head")).put("activation", "tanh"), a -> {}),
                "head.activation", "unknown value 'tanh'");
        assertRejected(write(j -> ((ObjectNode) j.get("evolver")).put("cell", "lstm"), a -> {}),
                "evolver.cell", "unknown value 'lstm'");
    }

    @Test
    void rejectsMissingOrMistypedManifestFields() throws IOException {
        assertRejected(write(j -> j.remove("hiddenDim"), a -> {}), "hiddenDim", "is missing");
        assertRejected(write(j -> ((ObjectNode) j.get("head")).put("batchNorm", "yes"), a -> {}),
                "head.batchNorm", "must be true or false");
        assertRejected(write(j -> j.put("maxHistory", 0), a -> {}), "maxHistory", "must be positive");
    }

    @Test
    void rejectsVocabularyThatIsNotStrictlyIncreasing() throws IOException {
        assertRejected(write(j -> {}, a -> {
            long[] ids = a.get("vocab.item").longs().clone();
            ids[5] = ids[4];
            a.put("vocab.item", NpyArray.ofLongs(new int[] {ids.length}, ids));
        }), "weights.npz: vocab.item", "not strictly increasing at index 5");
        assertRejected(write(j -> {}, a -> {
            long[] ids = a.get("vocab.category").longs().clone();
            long t = ids[1];
            ids[1] = ids[2];
            ids[2] = t;
            a.put("vocab.category", NpyArray.ofLongs(new int[] {ids.length}, ids));
        }), "weights.npz: vocab.category", "not strictly increasing at index 2");
    }

    @Test
    void rejectsCompressedNpz() throws IOException {
        Path dir = tmp.resolve("compressed");
        Files.createDirectories(dir);
        Files.copy(GoldenCases.bundleDir("official").resolve("model.json"), dir.resolve("model.json"));
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(dir.resolve("weights.npz")))) {
            for (Map.Entry<String, NpyArray> e : official().arrays().entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                zip.write(NpzFormat.toNpy(e.getValue()));
                zip.closeEntry();
            }
        }
        assertRejected(dir, "weights.npz: vocab.user", "is compressed");
    }

    @Test
    void rejectsMissingFiles() throws IOException {
        Path noWeights = tmp.resolve("noweights");
        Files.createDirectories(noWeights);
        Files.copy(GoldenCases.bundleDir("official").resolve("model.json"), noWeights.resolve("model.json"));
        assertRejected(noWeights, "weights.npz", "is missing");
        assertThatThrownBy(() -> BundleLoader.load(tmp.resolve("nothing-here")))
                .isInstanceOf(BundleFormatException.class).hasMessageContaining("no such bundle");
    }

    private static NpyArray withValue(NpyArray a, int index, float value) {
        float[] w = a.floats().clone();
        w[index] = value;
        return NpyArray.ofFloats(a.shape(), w);
    }
}

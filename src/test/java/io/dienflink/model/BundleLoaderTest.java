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
        zip(dir, "", flatZip);
        Path nestedZip = tmp.resolve("nested.zip");
        zip(GoldenCases.bundleDir("official"), "official/", nestedZip);
        for (Path p : new Path[] {dir, flatZip, nestedZip}) {
            ModelBundle loaded = BundleLoader.load(p);
            assertThat(loaded.fingerprint()).as(p.toString()).isEqualTo(b.fingerprint());
            assertThat(loaded.floats("extractor.kernel_h")).containsExactly(b.floats("extractor.kernel_h"));
        }
    }

    /** A zip of a bundle directory's two files, their names prefixed with {@code prefix}. */
    private static void zip(Path bundleDir, String prefix, Path zipFile) throws IOException {
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(zipFile))) {
            for (String f : new String[] {BundleLoader.MANIFEST, BundleLoader.WEIGHTS}) {
                zip.putNextEntry(new ZipEntry(prefix + f));
                zip.write(Files.readAllBytes(bundleDir.resolve(f)));
                zip.closeEntry();
            }
        }
    }

    @Test
    void fingerprintIgnoresModelVersionButNotWeights() throws IOException {
        ModelBundle renamed = BundleLoader.load(write(j -> j.put("modelVersion", "renamed"), a -> {}));
        assertThat(renamed.fingerprint()).isEqualTo(official().fingerprint());
        ModelBundle changed = BundleLoader.load(write(j -> {}, a -> {
            float[] w = a.get("head.out.bias").floats().clone();
            w[0] += 1e-6f;
            a.put("head.out.bias", NpyArray.ofFloats(new int[] {w.length}, w));
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
        assertRejected(write(j -> {}, a -> a.put("attention.dense2.bias", NpyArray.ofFloats(new int[] {41}, new float[41]))),
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

    /** An npy entry with a hand-written header and the given data bytes. */
    private static byte[] npy(String dict, byte[] data) {
        byte[] header = (dict + "\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.write(header.length & 0xff);
        out.write(header.length >>> 8);
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** The official bundle with one array's .npy entry replaced by raw bytes. */
    private Path withRawEntry(String array, byte[] entry) throws IOException {
        Path dir = write(j -> {}, a -> {});
        Map<String, NpyArray> arrays = new LinkedHashMap<>(official().arrays());
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(dir.resolve("weights.npz")))) {
            for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
                byte[] bytes = e.getKey().equals(array) ? entry : NpzFormat.toNpy(e.getValue());
                stored(zip, e.getKey() + ".npy", bytes);
            }
        }
        return dir;
    }

    private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry z = new ZipEntry(name);
        z.setMethod(ZipEntry.STORED);
        z.setSize(bytes.length);
        z.setCompressedSize(bytes.length);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        z.setCrc(crc.getValue());
        zip.putNextEntry(z);
        zip.write(bytes);
        zip.closeEntry();
    }

    private static byte[] littleEndianFloats(float... values) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    @Test
    void javaReaderReturnsTheStoredValuesBitForBit() throws IOException {
        // values written by the Java writer, read back by the Java reader: every float and id, exactly
        Path npz = tmp.resolve("w.npz");
        try (OutputStream out = Files.newOutputStream(npz)) {
            NpzFormat.write(out, official().arrays());
        }
        Map<String, NpyArray> read = NpzFormat.readArrays(npz, "w.npz");
        assertThat(read.keySet()).containsExactlyElementsOf(official().arrays().keySet());
        for (Map.Entry<String, NpyArray> e : official().arrays().entrySet()) {
            NpyArray r = read.get(e.getKey());
            assertThat(r.shape()).as(e.getKey()).containsExactly(e.getValue().shape());
            if (!e.getValue().isFloat32()) {
                assertThat(r.longs()).as(e.getKey()).containsExactly(e.getValue().longs());
            } else {
                assertThat(r.floats()).as(e.getKey()).containsExactly(e.getValue().floats());
            }
        }
        // and a hand-made entry with known bytes: 1.5f, -2f, the smallest subnormal, in a 1x3 C-order matrix
        Path one = tmp.resolve("one.npz");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(one))) {
            stored(zip, "m.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }",
                    littleEndianFloats(1.5f, -2f, Float.MIN_VALUE)));
        }
        NpyArray m = NpzFormat.readArrays(one, "one.npz").get("m");
        assertThat(m.shape()).containsExactly(1, 3);
        assertThat(m.floats()).containsExactly(1.5f, -2f, Float.MIN_VALUE);
    }

    @Test
    void javaReaderReadsDeflatedEntries() throws IOException {
        // np.savez_compressed deflates each entry; the reader handles it (the bundle spec still wants np.savez)
        Path npz = tmp.resolve("deflated.npz");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(npz))) {
            for (Map.Entry<String, NpyArray> e : official().arrays().entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                zip.write(NpzFormat.toNpy(e.getValue()));
                zip.closeEntry();
            }
        }
        Map<String, NpyArray> read = NpzFormat.readArrays(npz, "deflated.npz");
        assertThat(read.get("extractor.kernel_h").floats()).containsExactly(official().floats("extractor.kernel_h"));
        assertThat(read.get("vocab.item").longs()).containsExactly(official().arrays().get("vocab.item").longs());
    }

    @Test
    void javaReaderRejectsOtherDtypesFortranOrderAndTruncationNamingTheEntry() throws IOException {
        Path npz = tmp.resolve("bad.npz");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(npz))) {
            stored(zip, "big_endian.npy", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                    new byte[4]));
        }
        assertThatThrownBy(() -> NpzFormat.readArrays(npz, "bad.npz"))
                .isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("has dtype >f4")
                .satisfies(e -> assertThat(((BundleFormatException) e).field()).isEqualTo("bad.npz: big_endian"));

        // through the loader, a Fortran-order array is named before any data is read
        assertRejected(withRawEntry("head.out.bias", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
                littleEndianFloats(0.25f))), "weights.npz: head.out.bias", "Fortran order");
        assertThatThrownBy(() -> NpzFormat.readNpy(new java.io.ByteArrayInputStream(
                        npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", littleEndianFloats(1, 2, 3, 4))),
                "x.npz: f"))
                .isInstanceOf(BundleFormatException.class).hasMessageContaining("Fortran order")
                .satisfies(e -> assertThat(((BundleFormatException) e).field()).isEqualTo("x.npz: f"));
        assertRejected(withRawEntry("head.out.bias", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                new byte[3])), "weights.npz: head.out.bias", "is truncated");
        assertRejected(withRawEntry("head.out.bias", npy("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }",
                new byte[2])), "weights.npz: head.out.bias", "has dtype <f2");
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

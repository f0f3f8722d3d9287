package io.dienflink.bundleimport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dienflink.model.NpyArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input stops the import with a message naming the variable, line or field. */
class ImportErrorsTest {
    static final int X = TfOfficialImportTest.X;

    @TempDir
    Path dir;

    private Map<String, Vocabulary> vocabs() throws Exception {
        TfOfficialImportTest.writeVocabs(dir);
        return Map.of("user", Vocabulary.read(dir.resolve("uid_voc.tsv")), "item", Vocabulary.read(dir.resolve("mid_voc.tsv")),
                "category", Vocabulary.read(dir.resolve("cat_voc.tsv")));
    }

    private ImportException importTf(Map<String, NpyArray> arrays) throws Exception {
        Fixtures.writeNpz(dir.resolve("w.npz"), arrays);
        Map<String, Vocabulary> v = vocabs();
        JsonNode mapping = BundleImporter.loadMapping("tf1-official", Map.of());
        return assertThrows(ImportException.class,
                () -> BundleImporter.run(mapping, SourceWeights.read(dir.resolve("w.npz")), v, 100, "t"));
    }

    private static Map<String, NpyArray> tf() {
        return TfOfficialImportTest.npz(TfOfficialImportTest.weights(1));
    }

    @Test
    void missingVariableIsNamedWithItsExpectedShape() throws Exception {
        Map<String, NpyArray> a = tf();
        String name = TfOfficialImportTest.Names.candidateKernel(TfOfficialImportTest.Names.GRU1);
        a.remove(name);
        assertEquals("missing variable " + name + ", expected shape [D+H, H] = [12, 6]", importTf(a).getMessage());
    }

    @Test
    void unexpectedVariableIsNamed() throws Exception {
        Map<String, NpyArray> a = tf();
        a.put("f4/kernel", NpyArray.ofFloats(new int[] {3, 2}, new float[6]));
        assertEquals("unexpected variable f4/kernel [3, 2]: not used by tf1-official and not a known training-only variable",
                importTf(a).getMessage());
    }

    @Test
    void wrongShapeIsNamedWithTheExpectedShape() throws Exception {
        Map<String, NpyArray> a = tf();
        a.put(TfOfficialImportTest.Names.kernel(TfOfficialImportTest.Names.F1), NpyArray.ofFloats(new int[] {X + 1, 7}, new float[(X + 1) * 7]));
        assertEquals("variable f1/kernel has shape [28, 7], expected [E+3*D+H, F1] = [27, 7]", importTf(a).getMessage());
    }

    @Test
    void aVariableOfAnotherArchitectureIsRejectedWithTheReason() throws Exception {
        Map<String, NpyArray> a = tf();
        // model.py:66 prelu(dnn1, 'prelu1') (Model_DNN, Model_PNN): utils.py:148 variable_scope('prelu1'),
        // utils.py:149 get_variable("prelu_" + scope).
        String prelu1 = "prelu1" + "/" + "prelu_" + "prelu1";
        a.put(prelu1, NpyArray.ofFloats(new int[] {7}, new float[7]));
        assertTrue(importTf(a).getMessage().startsWith("variable " + prelu1 + " [7]: PReLU head (build_fcn_net with use_dice=False)"));
    }

    @Test
    void anOfficialModelWithAPlainSecondGruIsRejectedWithTheReason() throws Exception {
        // Model_DIN_V2_Gru_att_Gru: model.py:200-202 dynamic_rnn(GRUCell(HIDDEN_SIZE), ..., scope="gru2"), so the
        // second GRU's variables get TF's GRUCell layer scope as gru1's do.
        String plainGru2 = "gru2" + "/" + "gru_cell";
        Map<String, NpyArray> a = new java.util.LinkedHashMap<>();
        tf().forEach((name, array) -> a.put(name.replaceFirst("^" + TfOfficialImportTest.Names.GRU2 + "/", plainGru2 + "/"), array));
        String message = importTf(a).getMessage();
        assertTrue(message.startsWith("variable " + plainGru2 + "/") && message.contains(": a plain GRUCell as the second GRU"), message);
    }

    @Test
    void deepCtrTorchWithAPlainGruEvolverIsRejected() throws Exception {
        Map<String, double[]> w = DeepCtrTorchImportTest.weights(1, "user", "item_id", "cate_id", false);
        Map<String, NpyArray> a = DeepCtrTorchImportTest.npz(w, false);
        // gru_type 'GRU' or 'AIGRU': dien.py:299/306 self.interest_evolution = nn.GRU(...) inside InterestEvolving
        // (dien.py:65 self.interest_evolution), one layer, so its parameters end in _l0.
        String gruEvolver = "interest_evolution" + "." + "interest_evolution" + "." + "weight_ih_l0";
        a.put(gruEvolver, NpyArray.ofFloats(new int[] {24, 8}, new float[24 * 8]));
        Fixtures.writeNpz(dir.resolve("w.npz"), a);
        JsonNode mapping = BundleImporter.loadMapping("deepctr-torch", Map.of());
        ImportException e = assertThrows(ImportException.class,
                () -> BundleImporter.run(mapping, SourceWeights.read(dir.resolve("w.npz")), Map.of(), 100, "t"));
        assertTrue(e.getMessage().startsWith("variable " + gruEvolver + " [24, 8]: an nn.GRU evolver"),
                e.getMessage());
    }

    @Test
    void badMappingJsonIsReported() {
        ImportException e = assertThrows(ImportException.class, () -> BundleImporter.parseMapping("{\"format\": ", "m.json", Map.of()));
        assertTrue(e.getMessage().startsWith("m.json is not valid JSON"), e.getMessage());
        e = assertThrows(ImportException.class, () -> BundleImporter.parseMapping(
                "{\"format\": \"dien-import-mapping\", \"version\": 1, \"manifest\": {}, \"dims\": {}}", "m.json", Map.of()));
        assertEquals("m.json: field 'arrays' is missing or not an object", e.getMessage());
        e = assertThrows(ImportException.class, () -> BundleImporter.loadMapping("deepctr-torch", Map.of("items", "x")));
        assertTrue(e.getMessage().startsWith("preset deepctr-torch: unknown parameter 'items'"), e.getMessage());
    }

    @Test
    void unknownTransformInAMappingFileNamesItsPlace() throws Exception {
        String text = new String(BundleImporter.class.getResourceAsStream("/bundleimport/tf1-official.json").readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8).replace("{\"columnDifference\": [0, 1]}", "{\"difference\": [0, 1]}");
        Path mappingFile = dir.resolve("mine.json");
        Files.writeString(mappingFile, text);
        Fixtures.writeNpz(dir.resolve("w.npz"), tf());
        Map<String, Vocabulary> v = vocabs();
        JsonNode mapping = BundleImporter.loadMapping(mappingFile.toString(), Map.of());
        ImportException e = assertThrows(ImportException.class,
                () -> BundleImporter.run(mapping, SourceWeights.read(dir.resolve("w.npz")), v, 100, "t"));
        assertEquals("tf1-official: arrays.head.out.kernel.transforms[0]: unknown transform 'difference'", e.getMessage());
    }

    @Test
    void badVocabularyLinesAreNamed() throws Exception {
        Path tsv = dir.resolve("v.tsv");
        Files.writeString(tsv, "a\t1\nb 2\n");
        assertEquals(tsv + " line 2: expected 'raw id<TAB>row', got 'b 2'",
                assertThrows(ImportException.class, () -> Vocabulary.read(tsv)).getMessage());
        Files.writeString(tsv, "a\tone\n");
        assertEquals(tsv + " line 1: row 'one' is not an integer",
                assertThrows(ImportException.class, () -> Vocabulary.read(tsv)).getMessage());
        Files.writeString(tsv, "17\t1\n# comment\n17\t2\n");
        assertEquals(tsv + " line 3: raw id '17' (17) was already given at " + tsv + " line 1",
                assertThrows(ImportException.class, () -> Vocabulary.read(tsv)).getMessage());
        Path json = dir.resolve("v.json");
        Files.writeString(json, "{\"a\": -1}");
        assertEquals(json + ": key \"a\": row must be a non-negative integer, got -1",
                assertThrows(ImportException.class, () -> Vocabulary.read(json)).getMessage());
    }

    @Test
    void aVocabularyRowBeyondTheEmbeddingIsNamed() throws Exception {
        Map<String, NpyArray> a = tf();
        Fixtures.writeNpz(dir.resolve("w.npz"), a);
        Map<String, Vocabulary> v = new java.util.HashMap<>(vocabs());
        v.put("item", Vocabulary.of(Map.of(5L, 1, 6L, 8)));
        JsonNode mapping = BundleImporter.loadMapping("tf1-official", Map.of());
        ImportException e = assertThrows(ImportException.class,
                () -> BundleImporter.run(mapping, SourceWeights.read(dir.resolve("w.npz")), v, 100, "t"));
        assertEquals("item vocabulary: raw id 6 maps to row 8, but the source embedding has 8 rows", e.getMessage());
    }

    @Test
    void tf1OfficialWithoutCalibrationDataStopsWithExitCode1() throws Exception {
        Fixtures.writeNpz(dir.resolve("w.npz"), tf());
        TfOfficialImportTest.writeVocabs(dir);
        Fixtures.Run run = Fixtures.cli("bundle", "import", "--from", "tf1-official", "--weights", dir.resolve("w.npz").toString(),
                "--vocab", "user=" + dir.resolve("uid_voc.tsv"), "--vocab", "item=" + dir.resolve("mid_voc.tsv"),
                "--vocab", "category=" + dir.resolve("cat_voc.tsv"), "--output", dir.resolve("out").toString());
        assertEquals(1, run.exit());
        assertTrue(run.err().contains("error: head.dense1.dice.mean, head.dense1.dice.var, head.dense2.dice.mean, "
                + "head.dense2.dice.var: the source normalises these Dice layers with batch statistics; give --calibrate DATA"), run.err());
        assertTrue(Files.notExists(dir.resolve("out")));
    }
}

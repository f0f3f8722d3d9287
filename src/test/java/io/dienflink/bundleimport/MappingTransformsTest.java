package io.dienflink.bundleimport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The mapping transforms the presets do not use, on a Keras-style GRU (kernel {@code [in, 3H]} with
 * gate columns z, r, h and a reset-after bias {@code [2, 3H]}): each bundle value is checked
 * against the source element it must come from.
 */
class MappingTransformsTest {
    static final int IN = 2;
    static final int H = 2;

    /** Element (i, j) is 100·i + j, so every output value says where it came from. */
    static Tensor indexed(int rows, int cols) {
        double[] d = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                d[i * cols + j] = 100 * i + j;
            }
        }
        return new Tensor(new int[] {rows, cols}, d);
    }

    static JsonNode json(String s) throws Exception {
        return new ObjectMapper().readTree(s);
    }

    @Test
    void reorderMovesGateBlocksFromKerasOrderToTheBundles() throws Exception {
        Map<String, Tensor> src = Map.of("gru/kernel", indexed(IN, 3 * H));
        Tensor t = BundleImporter.evaluate(json("{\"from\": \"gru/kernel\", \"shape\": [\"2\", \"3*H\"],"
                + " \"transforms\": [{\"reorder\": {\"axis\": 1, \"order\": [1, 0, 2]}}]}"), src, Map.of("H", H));
        // Keras columns z0 z1 r0 r1 h0 h1 become r0 r1 z0 z1 h0 h1.
        assertArrayEquals(new double[] {2, 3, 0, 1, 4, 5, 102, 103, 100, 101, 104, 105}, t.data());
    }

    @Test
    void splitAndFlattenTakeOneRowOfAResetAfterBias() throws Exception {
        Map<String, Tensor> src = Map.of("gru/bias", indexed(2, 3 * H));
        Tensor recurrent = BundleImporter.evaluate(json("{\"from\": \"gru/bias\", \"shape\": [\"2\", \"3*H\"],"
                + " \"transforms\": [{\"split\": {\"axis\": 0, \"parts\": 2, \"index\": 1}}, \"flatten\"]}"), src, Map.of("H", H));
        assertArrayEquals(new int[] {3 * H}, recurrent.shape());
        assertArrayEquals(new double[] {100, 101, 102, 103, 104, 105}, recurrent.data());
    }

    @Test
    void negateTouchesOnlyItsBlockAndConcatStacksWithZeroBlocks() throws Exception {
        Map<String, Tensor> src = Map.of("w", indexed(2, 3));
        Tensor t = BundleImporter.evaluate(json("{\"axis\": 0, \"concat\": [{\"from\": \"w\", \"shape\": [\"2\", \"3\"],"
                + " \"transforms\": [{\"negate\": {\"axis\": 1, \"parts\": 3, \"index\": 1}}]}, {\"zeros\": \"E\"}]}"),
                src, Map.of("E", 1));
        assertArrayEquals(new int[] {3, 3}, t.shape());
        assertArrayEquals(new double[] {0, -1, 2, 100, -101, 102, 0, 0, 0}, t.data());
    }

    @Test
    void columnDifferenceMakesOneLogitOfATwoClassOutput() throws Exception {
        Map<String, Tensor> src = Map.of("out", indexed(2, 2));
        Tensor t = BundleImporter.evaluate(json("{\"from\": \"out\", \"shape\": [\"*\", \"2\"], \"transforms\": [{\"columnDifference\": [1, 0]}]}"),
                src, Map.of());
        assertArrayEquals(new double[] {1, 1}, t.data());
    }

    @Test
    void aSplitThatDoesNotDivideNamesTheShape() throws Exception {
        Map<String, Tensor> src = Map.of("w", indexed(2, 3));
        ImportException e = assertThrows(ImportException.class, () -> BundleImporter.evaluate(json(
                "{\"from\": \"w\", \"shape\": [\"2\", \"3\"], \"transforms\": [{\"split\": {\"axis\": 1, \"parts\": 2, \"index\": 0}}]}"),
                src, Map.of()));
        assertEquals("entry.transforms[0]: cannot split axis 1 of shape [2, 3] into 2 parts and take part 0", e.getMessage());
    }
}

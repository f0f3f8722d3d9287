package io.dienflink.bundleimport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dienflink.train.OfficialFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Which source embedding row each raw id uses. Read from a TSV ({@code raw id<TAB>row} per line,
 * {@code #} comments and blank lines ignored) or a JSON object {@code {"raw id": row, ...}}.
 * A raw id is written as in the data: a decimal number is itself, any other string becomes the
 * 64-bit hash of {@link OfficialFormat#rawId}, as the trainer and the job's producers do.
 */
public final class Vocabulary {
    private final long[] ids;
    private final int[] rows;

    private Vocabulary(Map<Long, Integer> byId) {
        ids = byId.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        rows = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            rows[i] = byId.get(ids[i]);
        }
    }

    /** From raw ids (already numeric) to rows, for tests and callers that hold the map. */
    public static Vocabulary of(Map<Long, Integer> byId) {
        return new Vocabulary(byId);
    }

    /**
     * Reads a vocabulary file, TSV unless the name ends in {@code .json}.
     *
     * @throws ImportException naming the file and line (or key) that is malformed or repeats a raw id
     */
    public static Vocabulary read(Path file) {
        Map<Long, Integer> byId = new HashMap<>();
        Map<Long, String> origin = new HashMap<>();
        try {
            if (file.getFileName().toString().endsWith(".json")) {
                JsonNode root;
                try {
                    root = new ObjectMapper().readTree(file.toFile());
                } catch (IOException e) {
                    throw new ImportException(file + " is not valid JSON: " + e.getMessage(), e);
                }
                if (root == null || !root.isObject()) {
                    throw new ImportException(file + ": expected a JSON object from raw id to row");
                }
                Iterator<Map.Entry<String, JsonNode>> it = root.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt() || e.getValue().intValue() < 0) {
                        throw new ImportException(file + ": key \"" + e.getKey() + "\": row must be a non-negative integer, got "
                                + e.getValue());
                    }
                    put(byId, origin, e.getKey(), e.getValue().intValue(), file + ": key \"" + e.getKey() + "\"");
                }
            } else {
                try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    String line;
                    int no = 0;
                    while ((line = r.readLine()) != null) {
                        no++;
                        if (line.isBlank() || line.startsWith("#")) {
                            continue;
                        }
                        String where = file + " line " + no;
                        String[] f = line.split("\t", -1);
                        if (f.length != 2 || f[0].isBlank()) {
                            throw new ImportException(where + ": expected 'raw id<TAB>row', got '" + line + "'");
                        }
                        int row;
                        try {
                            row = Integer.parseInt(f[1].trim());
                        } catch (NumberFormatException e) {
                            throw new ImportException(where + ": row '" + f[1] + "' is not an integer");
                        }
                        if (row < 0) {
                            throw new ImportException(where + ": row " + row + " is negative");
                        }
                        put(byId, origin, f[0], row, where);
                    }
                }
            }
        } catch (IOException e) {
            throw new ImportException("cannot read vocabulary " + file + ": " + e.getMessage(), e);
        }
        return new Vocabulary(byId);
    }

    private static void put(Map<Long, Integer> byId, Map<Long, String> origin, String id, int row, String where) {
        long raw = OfficialFormat.rawId(id);
        String before = origin.putIfAbsent(raw, where);
        if (before != null) {
            throw new ImportException(where + ": raw id '" + id.trim() + "' (" + raw + ") was already given at " + before);
        }
        byId.put(raw, row);
    }

    public int size() {
        return ids.length;
    }

    /** The raw ids, ascending: the bundle's {@code vocab.*} array. */
    long[] sortedIds() {
        return ids.clone();
    }

    /** The source row of each id of {@link #sortedIds()}. */
    int[] rowsInIdOrder() {
        return rows.clone();
    }
}

package io.dienflink.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dienflink.model.GoldenCases;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The golden cases as {@code score} input lines, and a check of {@code score}'s output against them. */
final class GoldenInput {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GoldenInput() {}

    static Path write(GoldenCases.Golden golden, Path dir) {
        List<String> lines = new ArrayList<>();
        for (GoldenCases.Case c : golden.cases()) {
            ObjectNode line = JSON.createObjectNode();
            line.put("userId", c.userId());
            clicks(line.putArray("clicks"), c.clicks());
            clicks(line.putArray("candidates"), c.candidates());
            lines.add(line.toString());
        }
        try {
            return Files.write(dir.resolve(golden.bundle() + ".jsonl"), lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void clicks(ArrayNode arr, List<GoldenCases.Click> clicks) {
        for (GoldenCases.Click k : clicks) {
            arr.addObject().put("itemId", k.itemId()).put("categoryId", k.categoryId());
        }
    }

    /** Parses score's stdout and returns the largest |ctr − expected| over all cases; fails on any stray line. */
    static double maxError(GoldenCases.Golden golden, String stdout, boolean windowed) throws IOException {
        String[] lines = stdout.strip().split("\n");
        if (lines.length != golden.cases().size()) {
            throw new AssertionError("expected " + golden.cases().size() + " output lines, got " + lines.length + ":\n" + stdout);
        }
        double max = 0;
        for (int i = 0; i < lines.length; i++) {
            JsonNode out = JSON.readTree(lines[i]);
            if (out.size() != 1 || !out.has("ctr")) {
                throw new AssertionError("line " + (i + 1) + " is not {\"ctr\": [...]}: " + lines[i]);
            }
            GoldenCases.Case c = golden.cases().get(i);
            float[] expected = windowed ? c.expected().windowedCtr() : c.expected().ctr();
            if (out.get("ctr").size() != expected.length) {
                throw new AssertionError("line " + (i + 1) + " has " + out.get("ctr").size() + " scores");
            }
            for (int j = 0; j < expected.length; j++) {
                max = Math.max(max, Math.abs(out.get("ctr").get(j).doubleValue() - expected[j]));
            }
        }
        return max;
    }
}

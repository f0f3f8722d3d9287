package io.dienflink.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.Semantics;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Offline scoring with the model core, for debugging and parity checks: one JSON line in, one
 * {@code {"ctr": [...]}} line out, nothing else on stdout.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Scores JSON lines offline with the model core.",
                "Each input line: {\"userId\": 1, \"clicks\": [{\"itemId\": 2, \"categoryId\": 3}, ...], "
                        + "\"candidates\": [{\"itemId\": 4, \"categoryId\": 5}, ...]} with clicks oldest first.",
                "Each output line: {\"ctr\": [...]} in candidate order. Blank lines are skipped.",
                "A line that cannot be parsed stops the command with its line number on stderr (exit 1)."})
final class ScoreCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model bundle directory or zip.")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "JSON lines to score ('-' for stdin).")
    String input;

    @Option(names = "--mode", defaultValue = "streaming", paramLabel = "MODE",
            description = "streaming (the job's semantics) or windowed (a stateless server's). Default: ${DEFAULT-VALUE}.")
    String mode;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Semantics semantics = switch (mode) {
            case "streaming" -> Semantics.STREAMING;
            case "windowed" -> Semantics.WINDOWED;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--mode must be streaming or windowed, not '" + mode + "'");
        };
        DienScorer scorer = DienModel.load(model).newScorer();
        PrintWriter out = spec.commandLine().getOut();
        try (BufferedReader in = "-".equals(input)
                ? new BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Path.of(input), StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            float[] ctr = new float[16];
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                Request r = parse(line, number);
                InterestState state = scorer.newState();
                for (int i = 0; i < r.clickItems.length; i++) {
                    state.append(scorer, r.clickItems[i], r.clickCategories[i]);
                }
                if (ctr.length < r.candidateItems.length) {
                    ctr = new float[r.candidateItems.length];
                }
                state.score(scorer, r.userId, r.candidateItems, r.candidateCategories, r.candidateItems.length, semantics, ctr);
                ObjectNode result = JSON.createObjectNode();
                ArrayNode scores = result.putArray("ctr");
                for (int i = 0; i < r.candidateItems.length; i++) {
                    scores.add(ctr[i]);
                }
                out.println(JSON.writeValueAsString(result));
            }
        }
        out.flush();
        return 0;
    }

    private record Request(long userId, long[] clickItems, long[] clickCategories, long[] candidateItems,
                           long[] candidateCategories) {}

    private static Request parse(String line, int number) {
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new InputException("line " + number + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InputException("line " + number + ": expected a JSON object");
        }
        long user = id(root, "userId", number, "userId");
        long[][] clicks = pairs(root, "clicks", number);
        long[][] candidates = pairs(root, "candidates", number);
        return new Request(user, clicks[0], clicks[1], candidates[0], candidates[1]);
    }

    private static long[][] pairs(JsonNode root, String field, int number) {
        JsonNode arr = root.get(field);
        if (arr == null || !arr.isArray()) {
            throw new InputException("line " + number + ": '" + field + "' must be an array");
        }
        long[][] out = new long[2][arr.size()];
        for (int i = 0; i < arr.size(); i++) {
            JsonNode e = arr.get(i);
            String where = field + "[" + i + "]";
            if (!e.isObject()) {
                throw new InputException("line " + number + ": '" + where + "' must be an object");
            }
            out[0][i] = id(e, "itemId", number, where + ".itemId");
            out[1][i] = id(e, "categoryId", number, where + ".categoryId");
        }
        return out;
    }

    private static long id(JsonNode parent, String name, int number, String where) {
        JsonNode n = parent.get(name);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new InputException("line " + number + ": '" + where + "' must be an integer id");
        }
        return n.longValue();
    }
}

package io.dienflink.bundleimport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dienflink.model.BundleFormatException;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.ModelConfig;
import io.dienflink.model.NpyArray;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns another framework's DIEN weights into a bundle by a mapping (docs/importing.md):
 * each bundle array is built from source variables by transposes, slices, splits, gate reorders,
 * negations and concatenations; every source variable must be used, or recognised and skipped
 * (optimiser slots, the auxiliary network), or the import stops naming it.
 *
 * <p>Presets ({@code tf1-official}, {@code deepctr-torch}) are mapping files shipped as resources.
 */
public final class BundleImporter {
    private static final Logger LOG = LoggerFactory.getLogger(BundleImporter.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PARAM = Pattern.compile("\\$\\{([A-Za-z0-9_]+)}");
    /** Names of the shipped presets; each is {@code /bundleimport/<name>.json} on the class path. */
    public static final List<String> PRESETS = List.of("tf1-official", "deepctr-torch");
    public static final String MAPPING_FORMAT = "dien-import-mapping";

    private final JsonNode mapping;
    private final String mappingName;
    private final Map<String, Tensor> source;
    private final Map<String, Integer> dims = new LinkedHashMap<>();
    private final Set<String> used = new LinkedHashSet<>();
    private final Map<String, Tensor> built = new HashMap<>();
    private final Set<String> building = new LinkedHashSet<>();
    private final List<String> calibrated = new ArrayList<>();

    private BundleImporter(JsonNode mapping, Map<String, Tensor> source) {
        this.mapping = mapping;
        this.mappingName = mapping.path("name").asText("mapping");
        this.source = source;
    }

    /** What an import produced: the bundle and what was done with each source variable. */
    public record Result(ModelBundle bundle, List<String> used, Map<String, String> skipped,
                         List<String> needCalibration, String diceFlavour) {
        /** A human-readable report of the import, one line per source variable. */
        public List<String> reportLines() {
            List<String> lines = new ArrayList<>();
            for (String u : used) {
                lines.add("used     " + u);
            }
            skipped.forEach((k, v) -> lines.add("skipped  " + k + "  (" + v + ")"));
            return lines;
        }
    }

    /**
     * Loads a mapping: a preset name or a path to a mapping JSON file, with {@code ${param}}
     * placeholders replaced by {@code params} or the mapping's own defaults.
     *
     * @throws ImportException for an unknown preset, unreadable file, bad JSON or unknown parameter
     */
    public static JsonNode loadMapping(String presetOrFile, Map<String, String> params) {
        String text;
        String label;
        if (PRESETS.contains(presetOrFile)) {
            label = "preset " + presetOrFile;
            try (InputStream in = BundleImporter.class.getResourceAsStream("/bundleimport/" + presetOrFile + ".json")) {
                if (in == null) {
                    throw new ImportException("preset " + presetOrFile + " is missing from the class path");
                }
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ImportException("cannot read preset " + presetOrFile + ": " + e.getMessage(), e);
            }
        } else {
            Path p = Path.of(presetOrFile);
            if (!Files.isRegularFile(p)) {
                throw new ImportException("--from " + presetOrFile + ": neither a preset (" + String.join(", ", PRESETS)
                        + ") nor a mapping file");
            }
            label = p.toString();
            try {
                text = Files.readString(p);
            } catch (IOException e) {
                throw new ImportException("cannot read mapping " + p + ": " + e.getMessage(), e);
            }
        }
        return parseMapping(text, label, params);
    }

    /** Parses mapping text (see {@link #loadMapping}). */
    public static JsonNode parseMapping(String text, String label, Map<String, String> params) {
        JsonNode raw = readJson(text, label);
        Map<String, String> values = new TreeMap<>();
        JsonNode defaults = raw.path("parameters");
        defaults.fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue().asText()));
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (!values.containsKey(e.getKey())) {
                throw new ImportException(label + ": unknown parameter '" + e.getKey() + "' (this mapping has "
                        + values.keySet() + ")");
            }
            values.put(e.getKey(), e.getValue());
        }
        Matcher m = PARAM.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = values.get(m.group(1));
            if (v == null) {
                throw new ImportException(label + ": placeholder ${" + m.group(1) + "} names no parameter (declared: "
                        + values.keySet() + ")");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        JsonNode root = readJson(out.toString(), label);
        if (!MAPPING_FORMAT.equals(root.path("format").asText()) || root.path("version").asInt() != 1) {
            throw new ImportException(label + ": field 'format' must be \"" + MAPPING_FORMAT
                    + "\" and 'version' 1");
        }
        for (String field : List.of("manifest", "dims", "arrays")) {
            if (!root.path(field).isObject()) {
                throw new ImportException(label + ": field '" + field + "' is missing or not an object");
            }
        }
        return root;
    }

    private static JsonNode readJson(String text, String label) {
        try {
            JsonNode n = JSON.readTree(text);
            if (n == null || !n.isObject()) {
                throw new ImportException(label + ": a mapping must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new ImportException(label + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Imports source weights into a bundle.
     *
     * @param vocabs raw id to source row for {@code user}, {@code item} and {@code category}
     * @throws ImportException naming the missing, unexpected or misshapen variable (with the expected shape)
     */
    public static Result run(JsonNode mapping, SourceWeights weights, Map<String, Vocabulary> vocabs,
                             int maxHistory, String modelVersion) {
        return new BundleImporter(mapping, weights.arrays()).run(vocabs, maxHistory, modelVersion);
    }

    private Result run(Map<String, Vocabulary> vocabs, int maxHistory, String modelVersion) {
        // Reject first: a variable that proves the source computes something else gets its reason,
        // not a "missing variable" about what that source does not have.
        Map<String, String> rejects = patterns("reject");
        for (String name : source.keySet()) {
            for (Map.Entry<String, String> r : rejects.entrySet()) {
                if (name.matches(r.getKey())) {
                    throw new ImportException("variable " + name + " " + source.get(name).shapeString() + ": " + r.getValue());
                }
            }
        }
        Map<String, String> skipPatterns = patterns("skip");
        Map<String, String> skipped = new LinkedHashMap<>();
        for (String name : source.keySet()) {
            for (Map.Entry<String, String> s : skipPatterns.entrySet()) {
                if (name.matches(s.getKey())) {
                    skipped.put(name, s.getValue());
                    break;
                }
            }
        }
        evalDims();
        JsonNode arrays = mapping.get("arrays");
        List<String> names = new ArrayList<>();
        arrays.fieldNames().forEachRemaining(names::add);
        for (String name : names) {
            if (active(arrays.get(name), "arrays." + name)) {
                array(name);
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String name : source.keySet()) {
            if (!used.contains(name) && !skipped.containsKey(name)) {
                unexpected.add(name + " " + source.get(name).shapeString());
            }
        }
        if (!unexpected.isEmpty()) {
            throw new ImportException("unexpected variable" + (unexpected.size() > 1 ? "s " : " ") + String.join(", ", unexpected)
                    + ": not used by " + mappingName + " and not a known training-only variable");
        }

        Map<String, NpyArray> out = new LinkedHashMap<>();
        ModelConfig.VocabSizes sizes = new ModelConfig.VocabSizes(size(vocabs, "user"), size(vocabs, "item"),
                size(vocabs, "category"));
        for (String kind : List.of("user", "item", "category")) {
            embedding(kind, vocabs.get(kind), out);
        }
        for (String name : names) {
            Tensor t = built.get(name);
            if (t != null && !name.startsWith("embedding.")) {
                out.put(name, NpyArray.ofFloats(t.shape(), t.toFloats()));
            }
        }
        ModelConfig config = manifest(sizes, maxHistory, modelVersion);
        ModelBundle bundle;
        try {
            bundle = ModelBundle.of(config, out);
        } catch (BundleFormatException e) {
            throw new ImportException(mappingName + " built an invalid bundle: " + e.getMessage(), e);
        }
        LOG.info("imported {} source variables with {}, skipped {}", used.size(), mappingName, skipped.size());
        String flavour = mapping.path("calibrate").path("dice").asText(null);
        return new Result(bundle, List.copyOf(used), skipped, List.copyOf(calibrated), flavour);
    }

    private static int size(Map<String, Vocabulary> vocabs, String kind) {
        Vocabulary v = vocabs.get(kind);
        if (v == null) {
            throw new ImportException("no vocabulary for " + kind + " (give --vocab " + kind + "=FILE)");
        }
        return v.size();
    }

    private Map<String, String> patterns(String field) {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode list = mapping.path(field);
        for (int i = 0; i < list.size(); i++) {
            JsonNode p = list.get(i);
            String where = mappingName + ": " + field + "[" + i + "]";
            if (!p.path("pattern").isTextual()) {
                throw new ImportException(where + ": needs a string 'pattern'");
            }
            if (active(p, where)) {
                out.put(p.get("pattern").asText(), p.path("reason").asText(field));
            }
        }
        return out;
    }

    private void evalDims() {
        Iterator<Map.Entry<String, JsonNode>> it = mapping.get("dims").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = mappingName + ": dims." + e.getKey();
            JsonNode d = e.getValue();
            List<String> alts = names(d.get("from"), where);
            String found = alts.stream().filter(source::containsKey).findFirst().orElseThrow(() -> new ImportException(
                    "missing variable " + String.join(" (or ", alts) + (alts.size() > 1 ? ")" : "")
                            + ": " + mappingName + " reads dimension " + e.getKey() + " from it"));
            Tensor t = source.get(found);
            int axis = d.path("axis").asInt(0);
            if (axis >= t.rank()) {
                throw new ImportException("variable " + found + " has shape " + t.shapeString() + ", expected at least "
                        + (axis + 1) + " dimensions (" + mappingName + " reads " + e.getKey() + " from axis " + axis + ")");
            }
            int v = t.dim(axis);
            int div = d.path("divide").asInt(1);
            if (v % div != 0) {
                throw new ImportException("variable " + found + " has shape " + t.shapeString() + ": axis " + axis
                        + " must be a multiple of " + div);
            }
            dims.put(e.getKey(), v / div);
            if ("E".equals(e.getKey())) {
                dims.put("D", 2 * v / div);
            }
        }
    }

    private static List<String> names(JsonNode from, String where) {
        List<String> alts = new ArrayList<>();
        if (from != null && from.isTextual()) {
            alts.add(from.asText());
        } else if (from != null && from.isArray() && from.size() > 0) {
            from.forEach(n -> alts.add(n.asText()));
        } else {
            throw new ImportException(where + ": 'from' must be a variable name or a list of alternative names");
        }
        return alts;
    }

    private boolean active(JsonNode expr, String where) {
        JsonNode when = expr.get("when");
        if (when == null) {
            return true;
        }
        String[] parts = when.asText().split("=", 2);
        if (parts.length != 2) {
            throw new ImportException(where + ".when: expected 'value=value', got '" + when.asText() + "'");
        }
        return parts[0].trim().equals(parts[1].trim());
    }

    /**
     * One mapping entry evaluated on its own against {@code source}, with the given dimensions (D is
     * derived from E): for checking a hand-written entry, and for tests of the transforms.
     */
    static Tensor evaluate(JsonNode entry, Map<String, Tensor> source, Map<String, Integer> dims) {
        BundleImporter b = new BundleImporter(JSON.createObjectNode().put("name", "entry").set("arrays", JSON.createObjectNode()),
                source);
        b.dims.putAll(dims);
        if (dims.containsKey("E")) {
            b.dims.put("D", 2 * dims.get("E"));
        }
        return b.eval(entry, "entry", null);
    }

    /** A bundle array (source table for embeddings), built once. */
    private Tensor array(String name) {
        Tensor t = built.get(name);
        if (t != null) {
            return t;
        }
        JsonNode expr = mapping.get("arrays").get(name);
        if (expr == null || !active(expr, "arrays." + name)) {
            throw new ImportException(mappingName + ": an entry refers to bundle array " + name + ", which the mapping does not build");
        }
        if (!building.add(name)) {
            throw new ImportException(mappingName + ": arrays." + name + " refers to itself");
        }
        t = eval(expr, mappingName + ": arrays." + name, name);
        building.remove(name);
        built.put(name, t);
        return t;
    }

    private Tensor eval(JsonNode expr, String where, String bundleName) {
        if (!expr.isObject()) {
            throw new ImportException(where + ": must be an object with 'from', 'concat', 'zeros' or 'calibrated'");
        }
        Tensor t;
        if (expr.has("from")) {
            t = fromSource(expr, where);
        } else if (expr.has("concat")) {
            JsonNode parts = expr.get("concat");
            if (!parts.isArray() || parts.isEmpty()) {
                throw new ImportException(where + ".concat: must be a non-empty list");
            }
            int axis = expr.path("axis").asInt(0);
            List<Tensor> pieces = new ArrayList<>();
            List<Integer> zeroAt = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                JsonNode p = parts.get(i);
                if (p.has("zeros") && p.path("zeros").isTextual()) {
                    pieces.add(null); // a zero block as wide as its siblings along the other axis
                    zeroAt.add(i);
                } else {
                    pieces.add(eval(p, where + ".concat[" + i + "]", null));
                }
            }
            Tensor like = pieces.stream().filter(x -> x != null).findFirst().orElseThrow(() ->
                    new ImportException(where + ".concat: needs at least one non-zero piece"));
            for (int i : zeroAt) {
                int[] shape = like.shape().clone();
                shape[axis] = DimExpr.eval(parts.get(i).get("zeros").asText(), dims, where + ".concat[" + i + "]");
                pieces.set(i, Tensor.zeros(shape));
            }
            try {
                t = Tensor.concat(axis, pieces);
            } catch (IllegalArgumentException e) {
                throw new ImportException(where + ": " + e.getMessage(), e);
            }
        } else if (expr.has("zeros")) {
            t = Tensor.zeros(shape(expr.get("zeros"), where + ".zeros"));
        } else if (expr.has("calibrated")) {
            String what = expr.get("calibrated").asText();
            int[] shape = shape(expr.get("shape"), where + ".shape");
            t = Tensor.zeros(shape);
            if ("var".equals(what)) {
                Arrays.fill(t.data(), 1.0);
            } else if (!"mean".equals(what)) {
                throw new ImportException(where + ".calibrated: must be \"mean\" or \"var\"");
            }
            if (bundleName != null) {
                calibrated.add(bundleName);
            }
        } else {
            throw new ImportException(where + ": must have 'from', 'concat', 'zeros' or 'calibrated'");
        }
        JsonNode transforms = expr.get("transforms");
        if (transforms != null) {
            for (int i = 0; i < transforms.size(); i++) {
                t = transform(t, transforms.get(i), where + ".transforms[" + i + "]");
            }
        }
        return t;
    }

    private int[] shape(JsonNode list, String where) {
        if (list == null || !list.isArray()) {
            throw new ImportException(where + ": must be a list of dimensions");
        }
        int[] s = new int[list.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = DimExpr.eval(list.get(i).asText(), dims, where);
        }
        return s;
    }

    private Tensor fromSource(JsonNode expr, String where) {
        List<String> alts = names(expr.get("from"), where);
        String found = alts.stream().filter(source::containsKey).findFirst().orElse(null);
        JsonNode shapeNode = expr.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new ImportException(where + ": 'shape' (the expected source shape) is required next to 'from'");
        }
        String expected = describeShape(shapeNode, where);
        if (found == null) {
            throw new ImportException("missing variable " + alts.get(0)
                    + (alts.size() > 1 ? " (or " + String.join(", ", alts.subList(1, alts.size())) + ")" : "")
                    + ", expected shape " + expected);
        }
        Tensor t = source.get(found);
        boolean ok = t.rank() == shapeNode.size();
        for (int i = 0; ok && i < shapeNode.size(); i++) {
            String d = shapeNode.get(i).asText();
            ok = "*".equals(d) || DimExpr.eval(d, dims, where) == t.dim(i);
        }
        if (!ok) {
            throw new ImportException("variable " + found + " has shape " + t.shapeString() + ", expected " + expected);
        }
        used.add(found);
        return t;
    }

    private String describeShape(JsonNode shape, String where) {
        List<String> sym = new ArrayList<>();
        List<String> num = new ArrayList<>();
        for (JsonNode d : shape) {
            sym.add(d.asText());
            num.add("*".equals(d.asText()) ? "any" : String.valueOf(DimExpr.eval(d.asText(), dims, where)));
        }
        String a = "[" + String.join(", ", sym) + "]";
        String b = "[" + String.join(", ", num) + "]";
        return a.equals(b) ? a : a + " = " + b;
    }

    private Tensor transform(Tensor t, JsonNode tr, String where) {
        try {
            if (tr.isTextual()) {
                return switch (tr.asText()) {
                    case "transpose" -> t.transpose();
                    case "negate" -> negate(t, null, where);
                    case "flatten" -> new Tensor(new int[] {t.data().length}, t.data());
                    default -> throw new ImportException(where + ": unknown transform '" + tr.asText() + "'");
                };
            }
            String op = tr.fieldNames().hasNext() ? tr.fieldNames().next() : "";
            JsonNode a = tr.get(op);
            return switch (op) {
                case "slice" -> t.slice(a.path("axis").asInt(0), DimExpr.eval(a.path("start").asText("0"), dims, where),
                        DimExpr.eval(a.path("end").asText(), dims, where));
                case "split" -> {
                    int axis = a.path("axis").asInt(0);
                    int parts = a.path("parts").asInt();
                    int index = a.path("index").asInt();
                    t.checkAxis(axis);
                    if (parts <= 0 || t.dim(axis) % parts != 0 || index < 0 || index >= parts) {
                        throw new ImportException(where + ": cannot split axis " + axis + " of shape " + t.shapeString()
                                + " into " + parts + " parts and take part " + index);
                    }
                    int w = t.dim(axis) / parts;
                    yield t.slice(axis, index * w, (index + 1) * w);
                }
                case "reorder" -> {
                    int axis = a.path("axis").asInt(0);
                    JsonNode order = a.get("order");
                    int parts = order == null ? 0 : order.size();
                    t.checkAxis(axis);
                    if (parts == 0 || t.dim(axis) % parts != 0) {
                        throw new ImportException(where + ": cannot reorder axis " + axis + " of shape " + t.shapeString()
                                + " in " + parts + " blocks");
                    }
                    int w = t.dim(axis) / parts;
                    List<Tensor> blocks = new ArrayList<>();
                    for (JsonNode o : order) {
                        blocks.add(t.slice(axis, o.asInt() * w, (o.asInt() + 1) * w));
                    }
                    yield Tensor.concat(axis, blocks);
                }
                case "negate" -> negate(t, a, where);
                case "foldBatchNorm" -> active(a, where) ? foldBatchNorm(t, a, where) : t;
                case "columnDifference" -> columnDifference(t, a.get(0).asInt(), a.get(1).asInt(), where);
                case "broadcastLike" -> {
                    Tensor like = array(a.asText());
                    if (t.data().length != 1) {
                        throw new ImportException(where + ": broadcastLike needs a single value, got shape " + t.shapeString());
                    }
                    double[] d = new double[like.data().length];
                    Arrays.fill(d, t.data()[0]);
                    yield new Tensor(like.shape().clone(), d);
                }
                default -> throw new ImportException(where + ": unknown transform '" + op + "'");
            };
        } catch (IllegalArgumentException e) {
            throw new ImportException(where + ": " + e.getMessage(), e);
        }
    }

    /**
     * Folds an inference-mode batch normalisation that follows a dense layer into it:
     * {@code BN(x·K + b) = x·(K·diag(s)) + (b − mean)·s + beta} with {@code s = gamma / sqrt(var + epsilon)}.
     * Applied to the kernel {@code [in, out]} (columns scaled) or the bias {@code [out]}.
     */
    private Tensor foldBatchNorm(Tensor t, JsonNode a, String where) {
        int out = t.dim(t.rank() - 1);
        double eps = a.path("epsilon").asDouble(Double.NaN);
        if (!(eps >= 0)) {
            throw new ImportException(where + ".foldBatchNorm: needs a non-negative 'epsilon'");
        }
        double[] gamma = vector(a, "gamma", out, where);
        double[] beta = vector(a, "beta", out, where);
        double[] mean = vector(a, "mean", out, where);
        double[] var = vector(a, "var", out, where);
        if (!List.of("kernel", "bias").contains(a.path("part").asText())) {
            throw new ImportException(where + ".foldBatchNorm: 'part' must be \"kernel\" or \"bias\"");
        }
        double[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) {
            int j = i % out;
            double scale = gamma[j] / Math.sqrt(var[j] + eps);
            d[i] = "bias".equals(a.path("part").asText()) ? (d[i] - mean[j]) * scale + beta[j] : d[i] * scale;
        }
        return new Tensor(t.shape().clone(), d);
    }

    /** A source vector of {@code n} values named by field {@code field} of {@code a}; marks it used. */
    private double[] vector(JsonNode a, String field, int n, String where) {
        String name = a.path(field).asText(null);
        if (name == null) {
            throw new ImportException(where + ": needs the source variable '" + field + "'");
        }
        Tensor v = source.get(name);
        if (v == null) {
            throw new ImportException("missing variable " + name + ", expected shape [" + n + "]");
        }
        if (v.rank() != 1 || v.dim(0) != n) {
            throw new ImportException("variable " + name + " has shape " + v.shapeString() + ", expected [" + n + "]");
        }
        used.add(name);
        return v.data();
    }

    /** Negates the whole array, or block {@code index} of {@code parts} along {@code axis}. */
    private static Tensor negate(Tensor t, JsonNode a, String where) {
        double[] d = t.data().clone();
        if (a == null || !a.has("parts")) {
            for (int i = 0; i < d.length; i++) {
                d[i] = -d[i];
            }
            return new Tensor(t.shape().clone(), d);
        }
        int axis = a.path("axis").asInt(0);
        int parts = a.path("parts").asInt();
        int index = a.path("index").asInt();
        t.checkAxis(axis);
        if (parts <= 0 || t.dim(axis) % parts != 0 || index < 0 || index >= parts) {
            throw new ImportException(where + ": cannot negate block " + index + " of " + parts + " along axis " + axis
                    + " of shape " + t.shapeString());
        }
        int w = t.dim(axis) / parts;
        int cols = t.rank() == 2 ? t.dim(1) : 1;
        for (int i = 0; i < d.length; i++) {
            int coord = t.rank() == 1 ? i : axis == 0 ? i / cols : i % cols;
            if (coord / w == index) {
                d[i] = -d[i];
            }
        }
        return new Tensor(t.shape().clone(), d);
    }

    /** A two-class output {@code [click, no-click]} as one logit: column a minus column b. */
    private static Tensor columnDifference(Tensor t, int a, int b, String where) {
        if (t.rank() == 1) {
            return new Tensor(new int[] {1}, new double[] {t.data()[a] - t.data()[b]});
        }
        if (t.rank() != 2 || a >= t.dim(1) || b >= t.dim(1)) {
            throw new ImportException(where + ": columnDifference needs columns " + a + " and " + b + ", got shape " + t.shapeString());
        }
        int r = t.dim(0);
        int c = t.dim(1);
        double[] d = new double[r];
        for (int i = 0; i < r; i++) {
            d[i] = t.data()[i * c + a] - t.data()[i * c + b];
        }
        return new Tensor(new int[] {r, 1}, d);
    }

    /** Embedding rows reordered to the bundle's vocabulary: row 0 the source's default row, row i+1 raw id i's row. */
    private void embedding(String kind, Vocabulary vocab, Map<String, NpyArray> out) {
        String name = "embedding." + kind;
        Tensor table = array(name);
        int rows = table.dim(0);
        int e = table.dim(1);
        int defaultRow = mapping.path("defaultRow").asInt(0);
        long[] ids = vocab.sortedIds();
        int[] srcRows = vocab.rowsInIdOrder();
        float[] w = new float[(ids.length + 1) * e];
        copyRow(table, defaultRow, w, 0, e, kind, "the default row");
        for (int i = 0; i < ids.length; i++) {
            copyRow(table, srcRows[i], w, i + 1, e, kind, "raw id " + ids[i]);
        }
        out.put("vocab." + kind, NpyArray.ofLongs(new int[] {ids.length}, ids));
        out.put(name, NpyArray.ofFloats(new int[] {ids.length + 1, e}, w));
        LOG.info("{} embedding: {} vocabulary ids over a source table of {} rows", kind, ids.length, rows);
    }

    private static void copyRow(Tensor table, int row, float[] w, int to, int e, String kind, String what) {
        if (row < 0 || row >= table.dim(0)) {
            throw new ImportException(kind + " vocabulary: " + what + " maps to row " + row + ", but the source embedding has "
                    + table.dim(0) + " rows");
        }
        for (int j = 0; j < e; j++) {
            w[to * e + j] = (float) table.data()[row * e + j];
        }
    }

    private ModelConfig manifest(ModelConfig.VocabSizes sizes, int maxHistory, String modelVersion) {
        ObjectNode root = ((ObjectNode) mapping.get("manifest")).deepCopy();
        root.put("format", ModelConfig.FORMAT);
        root.put("formatVersion", ModelConfig.FORMAT_VERSION);
        root.put("modelVersion", modelVersion);
        root.put("embeddingDim", built.get("embedding.user").dim(1));
        root.put("hiddenDim", built.get("extractor.kernel_h").dim(0));
        root.put("maxHistory", maxHistory);
        ObjectNode v = root.putObject("vocab");
        v.put("users", sizes.users());
        v.put("items", sizes.items());
        v.put("categories", sizes.categories());
        ((ObjectNode) root.with("extractor")).put("cell", "gru");
        ((ObjectNode) root.with("evolver")).put("cell", "augru");
        if ("din-mlp".equals(root.path("attention").path("kind").asText())) {
            ((ObjectNode) root.with("attention")).set("layers", layers("attention"));
        }
        ((ObjectNode) root.with("head")).set("layers", layers("head"));
        try {
            return ModelConfig.parse(JSON.writeValueAsBytes(root));
        } catch (IOException | BundleFormatException e) {
            throw new ImportException(mappingName + ": manifest: " + e.getMessage(), e);
        }
    }

    private ArrayNode layers(String prefix) {
        ArrayNode a = JSON.createArrayNode();
        for (int i = 1; built.containsKey(prefix + ".dense" + i + ".kernel"); i++) {
            a.add(built.get(prefix + ".dense" + i + ".kernel").dim(1));
        }
        return a;
    }
}

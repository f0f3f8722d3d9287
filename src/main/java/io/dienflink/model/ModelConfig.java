package io.dienflink.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The manifest ({@code model.json}) of a DIEN bundle, format version 1, as specified in
 * {@code MODEL_BUNDLE.md} section 2. Instances are validated on construction by {@link #parse}:
 * every field is present, of the right type and one of the allowed values.
 *
 * @param modelVersion free text shown in scores and metrics
 * @param embeddingDim E, the size of user, item and category embeddings
 * @param hiddenDim H, the extractor and evolver state size
 * @param maxHistory T, how many of the latest clicks the evolving layer reads
 */
public record ModelConfig(
        String modelVersion,
        int embeddingDim,
        int hiddenDim,
        int maxHistory,
        VocabSizes vocab,
        ResetMode extractorReset,
        AttentionConfig attention,
        EvolverConfig evolver,
        HeadConfig head) {

    /** The only {@code format} value a bundle may declare. */
    public static final String FORMAT = "dien-bundle";
    /** The format version this code reads and writes. */
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Vocabulary sizes: how many raw ids of each kind have their own embedding row. */
    public record VocabSizes(int users, int items, int categories) {}

    /**
     * @param queryProjection {@code din-mlp} only: project the candidate with a PReLU layer before comparing
     * @param layers {@code din-mlp} only: hidden layer widths
     * @param activation {@code din-mlp} only: hidden layer activation (sigmoid or relu)
     */
    public record AttentionConfig(AttentionKind kind, boolean queryProjection, List<Integer> layers, Activation activation) {
        public AttentionConfig {
            layers = List.copyOf(layers);
        }

        /** The bilinear attention of the paper's eq. 5; it has no options. */
        public static AttentionConfig bilinear() {
            return new AttentionConfig(AttentionKind.BILINEAR, false, List.of(), Activation.SIGMOID);
        }
    }

    public record EvolverConfig(AugruForm form, ResetMode reset) {}

    /**
     * @param batchNormEpsilon used only when {@code batchNorm}
     * @param activation dice, prelu or relu, for every hidden layer
     */
    public record HeadConfig(boolean batchNorm, float batchNormEpsilon, List<Integer> layers, Activation activation) {
        public HeadConfig {
            layers = List.copyOf(layers);
        }
    }

    public ModelConfig {
        require(modelVersion != null, "modelVersion", "is required");
        require(embeddingDim > 0, "embeddingDim", "must be positive, was " + embeddingDim);
        require(hiddenDim > 0, "hiddenDim", "must be positive, was " + hiddenDim);
        require(maxHistory > 0, "maxHistory", "must be positive, was " + maxHistory);
        require(vocab.users() >= 0, "vocab.users", "must not be negative");
        require(vocab.items() >= 0, "vocab.items", "must not be negative");
        require(vocab.categories() >= 0, "vocab.categories", "must not be negative");
        if (attention.kind() == AttentionKind.DIN_MLP) {
            require(Activation.ATTENTION.contains(attention.activation()), "attention.activation",
                    "must be sigmoid or relu, was " + attention.activation().json());
            require(!attention.layers().isEmpty(), "attention.layers", "must list at least one hidden layer");
            for (int i = 0; i < attention.layers().size(); i++) {
                require(attention.layers().get(i) > 0, "attention.layers[" + i + "]", "must be positive");
            }
            require(attention.queryProjection() || 2 * embeddingDim == hiddenDim, "attention.queryProjection",
                    "false requires the item vector size 2*embeddingDim (" + 2 * embeddingDim
                            + ") to equal hiddenDim (" + hiddenDim + ")");
        }
        require(Activation.HEAD.contains(head.activation()), "head.activation",
                "must be dice, prelu or relu, was " + head.activation().json());
        require(!head.layers().isEmpty(), "head.layers", "must list at least one hidden layer");
        for (int i = 0; i < head.layers().size(); i++) {
            require(head.layers().get(i) > 0, "head.layers[" + i + "]", "must be positive");
        }
        require(!head.batchNorm() || head.batchNormEpsilon() > 0 && Float.isFinite(head.batchNormEpsilon()),
                "head.batchNormEpsilon", "must be a positive number when head.batchNorm is true");
    }

    /** D = 2E, the size of an item vector {@code [item ; category]}. */
    public int itemDim() {
        return 2 * embeddingDim;
    }

    /** E + 3D + H, the size of the head's input {@code [e_u ; e_a ; s ; e_a ∘ s ; h']}. */
    public int headInputDim() {
        return embeddingDim + 3 * itemDim() + hiddenDim;
    }

    /** The same model with another version string (for example a trainer's run name). */
    public ModelConfig withModelVersion(String version) {
        return new ModelConfig(version, embeddingDim, hiddenDim, maxHistory, vocab, extractorReset, attention, evolver, head);
    }

    /**
     * Parses and validates a manifest.
     *
     * @throws BundleFormatException naming the first field that is missing, mistyped or has an unknown value
     */
    public static ModelConfig parse(byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new BundleFormatException("model.json", "is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new BundleFormatException("model.json", "must be a JSON object");
        }
        String format = text(root, "format", "format");
        require(FORMAT.equals(format), "format", "unknown value '" + format + "' (expected '" + FORMAT + "')");
        int version = integer(root, "formatVersion", "formatVersion");
        require(version == FORMAT_VERSION, "formatVersion",
                "unknown format version " + version + " (this build reads version " + FORMAT_VERSION + ")");

        JsonNode vocab = object(root, "vocab", "vocab");
        VocabSizes sizes = new VocabSizes(integer(vocab, "users", "vocab.users"), integer(vocab, "items", "vocab.items"),
                integer(vocab, "categories", "vocab.categories"));

        JsonNode extractor = object(root, "extractor", "extractor");
        String cell = text(extractor, "cell", "extractor.cell");
        require("gru".equals(cell), "extractor.cell", "unknown value '" + cell + "' (expected 'gru')");
        ResetMode extractorReset = ResetMode.parse(text(extractor, "reset", "extractor.reset"), "extractor.reset");

        JsonNode att = object(root, "attention", "attention");
        AttentionKind kind = AttentionKind.parse(text(att, "kind", "attention.kind"), "attention.kind");
        AttentionConfig attention = kind == AttentionKind.BILINEAR
                ? AttentionConfig.bilinear()
                : new AttentionConfig(kind, bool(att, "queryProjection", "attention.queryProjection"),
                        intList(att, "layers", "attention.layers"),
                        Activation.parse(text(att, "activation", "attention.activation"), "attention.activation",
                                Activation.ATTENTION));

        JsonNode evo = object(root, "evolver", "evolver");
        String evoCell = text(evo, "cell", "evolver.cell");
        require("augru".equals(evoCell), "evolver.cell", "unknown value '" + evoCell + "' (expected 'augru')");
        EvolverConfig evolver = new EvolverConfig(AugruForm.parse(text(evo, "form", "evolver.form"), "evolver.form"),
                ResetMode.parse(text(evo, "reset", "evolver.reset"), "evolver.reset"));

        JsonNode h = object(root, "head", "head");
        boolean bn = bool(h, "batchNorm", "head.batchNorm");
        float eps = bn ? (float) number(h, "batchNormEpsilon", "head.batchNormEpsilon") : 0f;
        HeadConfig head = new HeadConfig(bn, eps, intList(h, "layers", "head.layers"),
                Activation.parse(text(h, "activation", "head.activation"), "head.activation", Activation.HEAD));

        return new ModelConfig(text(root, "modelVersion", "modelVersion"), integer(root, "embeddingDim", "embeddingDim"),
                integer(root, "hiddenDim", "hiddenDim"), integer(root, "maxHistory", "maxHistory"), sizes,
                extractorReset, attention, evolver, head);
    }

    /** The manifest as written to {@code model.json}; {@link #parse} of it gives back an equal config. */
    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("formatVersion", FORMAT_VERSION);
        root.put("modelVersion", modelVersion);
        root.put("embeddingDim", embeddingDim);
        root.put("hiddenDim", hiddenDim);
        root.put("maxHistory", maxHistory);
        ObjectNode v = root.putObject("vocab");
        v.put("users", vocab.users());
        v.put("items", vocab.items());
        v.put("categories", vocab.categories());
        ObjectNode ex = root.putObject("extractor");
        ex.put("cell", "gru");
        ex.put("reset", extractorReset.json());
        ObjectNode att = root.putObject("attention");
        att.put("kind", attention.kind().json());
        if (attention.kind() == AttentionKind.DIN_MLP) {
            att.put("queryProjection", attention.queryProjection());
            ArrayNode layers = att.putArray("layers");
            attention.layers().forEach(layers::add);
            att.put("activation", attention.activation().json());
        }
        ObjectNode evo = root.putObject("evolver");
        evo.put("cell", "augru");
        evo.put("form", evolver.form().json());
        evo.put("reset", evolver.reset().json());
        ObjectNode h = root.putObject("head");
        h.put("batchNorm", head.batchNorm());
        if (head.batchNorm()) {
            h.put("batchNormEpsilon", (double) head.batchNormEpsilon());
        }
        ArrayNode hl = h.putArray("layers");
        head.layers().forEach(hl::add);
        h.put("activation", head.activation().json());
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void require(boolean ok, String field, String problem) {
        if (!ok) {
            throw new BundleFormatException(field, problem);
        }
    }

    private static JsonNode field(JsonNode parent, String name, String path) {
        JsonNode n = parent.get(name);
        if (n == null || n.isNull()) {
            throw new BundleFormatException(path, "is missing");
        }
        return n;
    }

    private static JsonNode object(JsonNode parent, String name, String path) {
        JsonNode n = field(parent, name, path);
        require(n.isObject(), path, "must be an object");
        return n;
    }

    private static String text(JsonNode parent, String name, String path) {
        JsonNode n = field(parent, name, path);
        require(n.isTextual(), path, "must be a string");
        return n.textValue();
    }

    private static boolean bool(JsonNode parent, String name, String path) {
        JsonNode n = field(parent, name, path);
        require(n.isBoolean(), path, "must be true or false");
        return n.booleanValue();
    }

    private static int integer(JsonNode parent, String name, String path) {
        JsonNode n = field(parent, name, path);
        require(n.isIntegralNumber() && n.canConvertToInt(), path, "must be an integer, was " + n);
        return n.intValue();
    }

    private static double number(JsonNode parent, String name, String path) {
        JsonNode n = field(parent, name, path);
        require(n.isNumber(), path, "must be a number, was " + n);
        return n.doubleValue();
    }

    private static List<Integer> intList(JsonNode parent, String name, String path) {
        JsonNode n = field(parent, name, path);
        require(n.isArray(), path, "must be an array of integers");
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode e = n.get(i);
            require(e.isIntegralNumber() && e.canConvertToInt(), path + "[" + i + "]", "must be an integer, was " + e);
            out.add(e.intValue());
        }
        return out;
    }
}

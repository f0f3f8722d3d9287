package io.dienflink.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The independent expected outputs in {@code ../shared/golden/<bundle>/cases.json}
 * (MODEL_BUNDLE.md section 6). The directory comes from the system property {@code dien.shared.dir}
 * (set by the build) or {@code ../shared} next to the checkout; a missing directory fails loudly.
 */
public final class GoldenCases {
    /** The golden bundles shipped with the spec. */
    public static final List<String> BUNDLES = List.of("official", "torch", "bilinear");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, ModelBundle> BUNDLE_CACHE = new ConcurrentHashMap<>();

    private GoldenCases() {}

    public record Click(long itemId, long categoryId) {}

    public record Expected(float[][] windowStates, float[][] attention, float[][] finalInterest, float[] logit,
                           float[] ctr, float[] windowedLogit, float[] windowedCtr) {}

    public record Case(String name, long userId, List<Click> clicks, List<Click> candidates, Expected expected) {
        public long[] candidateItems() {
            return candidates.stream().mapToLong(Click::itemId).toArray();
        }

        public long[] candidateCategories() {
            return candidates.stream().mapToLong(Click::categoryId).toArray();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    public record Tolerance(double ctr, double state) {}

    public record Golden(String bundle, Tolerance tolerance, List<Case> cases) {}

    /** The shared directory holding {@code spec/} and {@code golden/}. */
    public static Path sharedDir() {
        String prop = System.getProperty("dien.shared.dir");
        Path dir = prop != null ? Path.of(prop) : Path.of("..", "shared");
        Path golden = dir.resolve("golden");
        if (!Files.isDirectory(golden)) {
            throw new IllegalStateException("Golden cases not found at " + golden.toAbsolutePath()
                    + ": check out the steering repository's shared/ next to this one, or set -Ddien.shared.dir");
        }
        return dir;
    }

    public static Path bundleDir(String name) {
        return sharedDir().resolve("golden").resolve(name);
    }

    /** The golden bundle, loaded once per JVM (ND4J start-up is the slow part). */
    public static ModelBundle bundle(String name) {
        return BUNDLE_CACHE.computeIfAbsent(name, n -> BundleLoader.load(bundleDir(n)));
    }

    public static Golden load(String name) {
        try {
            JsonNode root = JSON.readTree(bundleDir(name).resolve("cases.json").toFile());
            JsonNode tol = root.get("tolerance");
            List<Case> cases = new ArrayList<>();
            for (JsonNode c : root.get("cases")) {
                JsonNode exp = c.get("expected");
                JsonNode st = exp.get("streaming");
                JsonNode cands = st.get("candidates");
                int n = cands.size();
                float[][] attention = new float[n][];
                float[][] interest = new float[n][];
                float[] logit = new float[n];
                float[] ctr = new float[n];
                for (int i = 0; i < n; i++) {
                    attention[i] = floats(cands.get(i).get("attention"));
                    interest[i] = floats(cands.get(i).get("finalInterest"));
                    logit[i] = (float) cands.get(i).get("logit").doubleValue();
                    ctr[i] = (float) cands.get(i).get("ctr").doubleValue();
                }
                JsonNode win = exp.get("windowed");
                float[] wLogit = new float[n];
                float[] wCtr = new float[n];
                JsonNode wc = win.has("candidates") ? win.get("candidates") : null;
                for (int i = 0; i < n; i++) {
                    if (wc != null) {
                        wLogit[i] = (float) wc.get(i).get("logit").doubleValue();
                        wCtr[i] = (float) wc.get(i).get("ctr").doubleValue();
                    } else {
                        wLogit[i] = (float) win.get("logit").get(i).doubleValue();
                        wCtr[i] = (float) win.get("ctr").get(i).doubleValue();
                    }
                }
                JsonNode ws = st.get("windowStates");
                float[][] states = new float[ws.size()][];
                for (int t = 0; t < ws.size(); t++) {
                    states[t] = floats(ws.get(t));
                }
                cases.add(new Case(c.get("name").asText(), c.get("userId").asLong(), clicks(c.get("clicks")),
                        clicks(c.get("candidates")), new Expected(states, attention, interest, logit, ctr, wLogit, wCtr)));
            }
            return new Golden(name, new Tolerance(tol.get("ctr").doubleValue(), tol.get("state").doubleValue()), cases);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Click> clicks(JsonNode arr) {
        List<Click> out = new ArrayList<>();
        for (JsonNode n : arr) {
            out.add(new Click(n.get("itemId").asLong(), n.get("categoryId").asLong()));
        }
        return out;
    }

    private static float[] floats(JsonNode arr) {
        float[] out = new float[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) arr.get(i).doubleValue();
        }
        return out;
    }
}

package io.dienflink.train;

import io.dienflink.model.Activation;
import io.dienflink.model.AttentionKind;
import io.dienflink.model.AugruForm;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.ModelConfig;
import io.dienflink.model.NpyArray;
import io.dienflink.model.ResetMode;
import java.util.HashMap;
import java.util.Map;

/** A trained DIEN network as a model bundle (MODEL_BUNDLE.md), with the architecture of its config. */
public final class BundleExport {
    private BundleExport() {}

    public static ModelConfig manifest(TrainConfig cfg, Dataset data, String modelVersion) {
        return new ModelConfig(modelVersion, cfg.embeddingDim(), cfg.hiddenDim(), cfg.maxHistory(),
                new ModelConfig.VocabSizes(data.users.length, data.items.length, data.categories.length), ResetMode.BEFORE,
                new ModelConfig.AttentionConfig(AttentionKind.DIN_MLP, true, cfg.attentionLayers(), Activation.SIGMOID),
                new ModelConfig.EvolverConfig(AugruForm.CODE, ResetMode.BEFORE),
                new ModelConfig.HeadConfig(false, 0f, cfg.headLayers(), Activation.PRELU));
    }

    /**
     * @throws IllegalArgumentException for a network that is not DIEN (DIN and BaseModel have no bundle format)
     */
    public static ModelBundle toBundle(Network net, Dataset data, String modelVersion) {
        if (net.cfg.kind() != ModelKind.DIEN) {
            throw new IllegalArgumentException("only DIEN networks export to a bundle, not " + net.cfg.kind());
        }
        Map<String, NpyArray> arrays = new HashMap<>();
        arrays.put("vocab.user", NpyArray.ofLongs(new int[] {data.users.length}, data.users));
        arrays.put("vocab.item", NpyArray.ofLongs(new int[] {data.items.length}, data.items));
        arrays.put("vocab.category", NpyArray.ofLongs(new int[] {data.categories.length}, data.categories));
        for (Network.Param p : net.params) {
            arrays.put(p.name, NpyArray.ofFloats(p.shape, p.value.clone()));
        }
        return ModelBundle.of(manifest(net.cfg, data, modelVersion), arrays);
    }
}

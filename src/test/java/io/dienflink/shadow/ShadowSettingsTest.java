package io.dienflink.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.job.DienScoringJob;
import io.dienflink.model.GoldenCases;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shadow and serving-log settings: validation with the key named, and which topics they need. */
class ShadowSettingsTest {
    @TempDir
    Path tmp;

    private static Configuration base() {
        Configuration conf = new Configuration();
        conf.set(DienJobOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9");
        conf.set(DienJobOptions.MODEL_PATH, GoldenCases.bundleDir("official").toString());
        return conf;
    }

    @Test
    void offByDefault() {
        DienJobConfig config = DienJobConfig.from(base());
        assertThat(config.shadow().shadowOn()).isFalse();
        assertThat(config.shadow().logOn()).isFalse();
        assertThat(config.extraTopics()).isEmpty();
        assertThat(config.shadow().handOff().active()).isFalse();
    }

    @Test
    void aChallengerModelAloneScoresEveryRequest() {
        Configuration conf = base();
        conf.set(DienJobOptions.SHADOW_MODEL, GoldenCases.bundleDir("torch").toString());
        DienJobConfig config = DienJobConfig.from(conf);
        assertThat(config.shadow().shadowOn()).isTrue();
        assertThat(config.shadow().handOff().shadowSampler().share()).isEqualTo(1.0);
        assertThat(config.shadow().handOff().logSampler().active()).isFalse();
        assertThat(config.extraTopics()).containsExactly("ctr-scores-shadow");
        conf.set(DienJobOptions.LOG_SHARE, 0.1);
        assertThat(DienJobConfig.from(conf).extraTopics()).containsExactly("ctr-scores-shadow", "serving-log");
    }

    @Test
    void sharesOutsideZeroToOneAreRefusedWithTheKeyNamed() {
        Configuration conf = base();
        conf.set(DienJobOptions.SHADOW_SHARE, 1.5);
        assertThatThrownBy(() -> DienJobConfig.from(conf)).hasMessageStartingWith("dien.shadow.share:");
        Configuration log = base();
        log.set(DienJobOptions.LOG_SHARE, -0.1);
        assertThatThrownBy(() -> DienJobConfig.from(log)).hasMessageStartingWith("dien.log.share:");
        Configuration queue = base();
        queue.set(DienJobOptions.SHADOW_QUEUE, 0);
        assertThatThrownBy(() -> DienJobConfig.from(queue)).hasMessageStartingWith("dien.shadow.queue:");
    }

    @Test
    void aBadChallengerBundleStopsTheJobAtSubmissionWithTheKeyAndTheFieldNamed() throws Exception {
        Path bad = tmp.resolve("bad-bundle");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("model.json"), "{\"format\": \"dien-bundle\", \"formatVersion\": 99}");
        Configuration conf = base();
        conf.set(DienJobOptions.SHADOW_MODEL, bad.toString());
        DienJobConfig config = DienJobConfig.from(conf);
        assertThatThrownBy(() -> DienScoringJob.forKafka(config))
                .hasMessageStartingWith("dien.shadow.model:").hasMessageContaining("formatVersion");
        conf.set(DienJobOptions.SHADOW_MODEL, tmp.resolve("missing").toString());
        assertThatThrownBy(() -> DienScoringJob.forKafka(DienJobConfig.from(conf))).hasMessageStartingWith("dien.shadow.model:");
    }
}

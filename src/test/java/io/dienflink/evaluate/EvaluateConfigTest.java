package io.dienflink.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dienflink.job.DienJobOptions;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

/** The evaluate job's settings: the documented defaults, shared keys, and a clear error naming the key. */
class EvaluateConfigTest {
    private static Configuration base() {
        Configuration c = new Configuration();
        c.set(DienJobOptions.BOOTSTRAP_SERVERS, "k:9092");
        return c;
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        EvaluateConfig c = EvaluateConfig.from(base());
        assertThat(c.attributionWindow()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.maxPendingPerUser()).isEqualTo(1000);
        assertThat(c.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
        assertThat(c.scoresTopic()).isEqualTo("ctr-scores");
        assertThat(c.shadowScoresTopic()).isEqualTo("ctr-scores-shadow");
        assertThat(c.clicksTopic()).isEqualTo("clicks");
        assertThat(c.modelEvalTopic()).isEqualTo("model-eval");
        assertThat(c.servingLogLabelledTopic()).isEqualTo("serving-log-labelled");
        assertThat(c.impressions()).isFalse();
        assertThat(c.labelServingLog()).isFalse();
        assertThat(c.transactionalIdPrefix()).isNotEqualTo(DienJobOptions.TRANSACTIONAL_ID_PREFIX.defaultValue());
        assertThat(c.groupId()).isNotEqualTo(DienJobOptions.GROUP_ID.defaultValue());
    }

    @Test
    void theScoringJobsKeysAreShared() {
        Configuration conf = base();
        conf.set(DienJobOptions.SCORES_TOPIC, "s");
        conf.set(DienJobOptions.CLICKS_TOPIC, "c");
        conf.setString("dien.kafka.client.security.protocol", "SSL");
        EvaluateConfig c = EvaluateConfig.from(conf);
        assertThat(c.scoresTopic()).isEqualTo("s");
        assertThat(c.clicksTopic()).isEqualTo("c");
        assertThat(c.clientProperties()).containsEntry("security.protocol", "SSL");
    }

    @Test
    void badSettingsNameTheirKey() {
        Configuration noServers = new Configuration();
        assertThatThrownBy(() -> EvaluateConfig.from(noServers)).hasMessageStartingWith("dien.kafka.bootstrap-servers");
        Configuration window = base();
        window.setString("dien.eval.attribution-window", "0 s");
        assertThatThrownBy(() -> EvaluateConfig.from(window)).hasMessageStartingWith("dien.eval.attribution-window");
        Configuration pending = base();
        pending.set(EvaluateOptions.MAX_PENDING_PER_USER, 0);
        assertThatThrownBy(() -> EvaluateConfig.from(pending)).hasMessageStartingWith("dien.eval.max-pending-per-user");
        Configuration guarantee = base();
        guarantee.setString("dien.eval.delivery-guarantee", "sometimes");
        assertThatThrownBy(() -> EvaluateConfig.from(guarantee)).hasMessageStartingWith("dien.eval.delivery-guarantee");
        Configuration impressions = base();
        impressions.setString("dien.topic.impressions", " ");
        assertThatThrownBy(() -> EvaluateConfig.from(impressions)).hasMessageStartingWith("dien.topic.impressions");
    }
}

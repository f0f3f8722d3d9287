package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

class DienJobOptionsTest {
    private static DeliveryGuarantee parse(String value) {
        Configuration conf = new Configuration();
        conf.setString(DienJobOptions.DELIVERY_GUARANTEE.key(), value);
        return DienJobOptions.deliveryGuarantee(conf);
    }

    @Test
    void deliveryGuaranteeTakesTheDocumentedNamesAndFlinksSpellings() {
        assertThat(DienJobOptions.deliveryGuarantee(new Configuration())).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
        assertThat(parse("EXACTLY_ONCE")).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
        assertThat(parse("exactly-once")).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
        assertThat(parse(" AT_LEAST_ONCE ")).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
        assertThat(parse("at-least-once")).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
        // NONE would drop scores silently on a failure: not offered
        assertThatThrownBy(() -> parse("NONE")).hasMessage("dien.delivery-guarantee: must be AT_LEAST_ONCE or EXACTLY_ONCE, got 'NONE'");
    }
}

package io.dienflink.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The short chaos runs of CI, one per delivery guarantee, on one local standalone cluster (2
 * TaskManagers, parallelism 2, a broker of its own; Flink's runtime only on its classpath): the job
 * jar under traffic for 90 s, and at seeded intervals a TaskManager SIGKILLed and replaced, the
 * broker SIGKILLed and restarted, a stop-with-savepoint and restart; then the checker over the whole
 * run. Passing means: every fault recovered (a new score after it), nothing missing, nothing wrong,
 * and under exactly-once nothing doubled. Under at-least-once the checker counts repeated answers
 * (a replay after a failure scores requests again) but, as designed, does not count them as
 * violations: a repeat must still be a correct score of a valid request.
 */
class ChaosITCase {
    @TempDir
    static Path tmp;

    private static LocalCluster cluster;

    @BeforeAll
    static void up() throws Exception {
        cluster = new LocalCluster(tmp.resolve("cluster"));
        cluster.up(new LocalCluster.Settings(2, 2, 0));
    }

    @AfterAll
    static void down() throws Exception {
        if (cluster != null) {
            cluster.down();
        }
    }

    /** Each run: about 90 s of traffic plus the faults' tail, the catch-up and the check; 2-3 minutes on 2 cores. */
    @ParameterizedTest
    @EnumSource(value = DeliveryGuarantee.class, names = {"EXACTLY_ONCE", "AT_LEAST_ONCE"})
    void everyFaultRecoversAndTheRunVerifies(DeliveryGuarantee guarantee) throws Exception {
        Chaos.Result r = Chaos.run(new Chaos.Settings(cluster.workDir(), JobJar.resolve(null),
                Path.of("bundles", "demo").toAbsolutePath(), Duration.ofSeconds(90), 7, Duration.ofSeconds(5), guarantee,
                60, 15), new PrintWriter(System.out, true));
        // one fault of each kind at least: the kinds come in seeded rounds of three
        assertThat(r.faults()).as(r.line()).hasSizeGreaterThanOrEqualTo(3);
        for (String kind : Chaos.KINDS) {
            assertThat(r.count(kind)).as(kind + ": " + r.line()).isPositive();
        }
        assertThat(r.scorerTaskManagers()).as("parallelism 2 runs a scorer on each of the 2 TaskManagers").isEqualTo(2);
        // every TaskManager kill hit a scorer: the slots spread over both TaskManagers and the
        // victim is chosen among those that run one
        assertThat(r.faults().stream().filter(f -> f.kind().equals(Chaos.KINDS.get(0))))
                .as(r.line()).allMatch(Chaos.Fault::hitScorer);
        // the checker judged the run under the run's guarantee: doubles are violations only under exactly-once
        assertThat(r.report().exactlyOnce()).as(r.line()).isEqualTo(guarantee == DeliveryGuarantee.EXACTLY_ONCE);
        assertThat(r.report().ok()).as(r.line() + r.report().violations()).isTrue();
        assertThat(r.report().missing()).as(r.line()).isZero();
        assertThat(r.report().wrong()).as(r.line()).isZero();
        assertThat(r.report().requests()).as(r.line()).isGreaterThan(500);
        assertThat(r.report().scored()).as(r.line()).isEqualTo(r.report().requests());
        assertThat(r.report().malformed()).as(r.line()).isPositive();
    }
}

package io.dienflink.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.job.ShippedStateBackend;
import io.dienflink.job.DienScoringJob;
import io.dienflink.local.EmbeddedKafkaCluster;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verifier against the real job: {@link RecordedRun}'s input (a retried click, a repeat beyond
 * the de-duplication window, malformed records) scored by the scoring job on a MiniCluster with a
 * real broker. The job's own output must pass, probes included: this is what ties the verifier's
 * copy of the job's rules (validation, de-duplication, {@code clicks_applied}) to the job.
 */
class VerifyJobITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).setConfiguration(ShippedStateBackend.cluster()).build());

    private static EmbeddedKafkaCluster kafka;

    @TempDir
    Path checkpoints;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaCluster.start(null);
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    @Test
    void theJobsOwnOutputPassesAtLeastOnce() throws Exception {
        verifyJobRun("job-alo", "AT_LEAST_ONCE");
    }

    @Test
    void theJobsOwnOutputPassesExactlyOnce() throws Exception {
        verifyJobRun("job-eo", "EXACTLY_ONCE");
    }

    private void verifyJobRun(String name, String guarantee) throws Exception {
        RecordedRun run = RecordedRun.write(kafka, name);
        JobClient job = startJob(run, guarantee);
        try {
            // First without probes: waits until the job has scored every request of the run (its
            // clicks are most likely applied by then; a probe that overtakes one is asked again).
            VerifyReport output = RunVerifier.verify(run.config(guarantee), new RunVerifier.Options(false, Duration.ofSeconds(120)));
            assertThat(output.ok()).as(output.line() + " " + output.violations()).isTrue();
            assertThat(output.requests()).isEqualTo(output.scored()).isEqualTo(run.validRequests);
            assertThat(output.malformed()).isEqualTo(run.invalidRecords);
            assertThat(output.deadLetters()).isEqualTo(run.invalidRecords);

            VerifyReport probed = RunVerifier.verify(run.config(guarantee), new RunVerifier.Options(true, Duration.ofSeconds(120)));
            assertThat(probed.ok()).as(probed.line() + " " + probed.violations()).isTrue();
            assertThat(probed.requests()).isGreaterThanOrEqualTo(run.validRequests + run.usersWithClicks());
            assertThat(probed.windowsWrong()).isZero();
        } finally {
            job.cancel().get();
        }
    }

    private JobClient startJob(RecordedRun run, String guarantee) throws Exception {
        Configuration conf = new Configuration();
        run.settings(guarantee).forEach(conf::setString);
        conf.set(DienJobOptions.PARALLELISM, 2);
        conf.set(DienJobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        // the recorded requests were written before the job started, with event times of 2023
        conf.set(DienJobOptions.REQUEST_INITIAL_OFFSET, DienJobOptions.InitialOffset.EARLIEST.name());
        conf.set(DienJobOptions.REQUEST_MAX_AGE, Duration.ZERO);
        DienJobConfig config = DienJobConfig.from(conf);
        DienScoringJob.configure(conf, config);
        conf.addAll(DienScoringJob.rocksDbDefaults(conf));
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(conf);
        DienScoringJob.forKafka(config).addTo(env);
        return env.executeAsync("verify " + guarantee);
    }
}

package io.dienflink.cli;

import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienScoringJob;
import io.dienflink.job.JobPreflight;
import java.util.List;
import java.util.OptionalLong;
import org.apache.flink.connector.base.DeliveryGuarantee;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the scoring job against an external Kafka. Locally it starts a MiniCluster; submitted with
 * {@code flink run target/dien-flink.jar run ...} it runs on that Flink cluster.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the scoring job against an external Kafka (locally, or on a cluster via `flink run`).",
                "Settings: -Dkey=value or --config FILE (properties); keys and defaults: docs/job.md.",
                "Flink settings (e.g. execution.checkpointing.dir) may be given the same way."})
final class RunCommand implements Callable<Integer> {
    /** Settings, Kafka servers and client settings, shared with `generate` and `read-scores`. */
    @CommandLine.Mixin
    JobSettings settings = new JobSettings();

    @Option(names = "--model", paramLabel = "DIR", description = "Model bundle directory or zip (dien.model.path).")
    String model;

    @Override
    public Integer call() throws Exception {
        Configuration conf = settings.configuration(model);
        DienJobConfig config = JobSettings.jobConfig(conf);
        DienScoringJob.configure(conf, config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        // the job's RocksDB defaults yield to the cluster's settings, which only the environment knows
        Configuration rocksDb = DienScoringJob.rocksDbDefaults(env.getConfiguration());
        if (!rocksDb.keySet().isEmpty()) {
            conf.addAll(rocksDb);
            env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        }
        // the environment's configuration includes the cluster's (flink run, the Operator)
        List<JobPreflight.Problem> problems = JobPreflight.problems(env.getConfiguration(), config,
                config.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE
                        ? JobPreflight.brokerMaxTransactionMs(config) : OptionalLong.empty());
        if (!problems.isEmpty()) {
            throw new UsageException(problems.stream().map(JobPreflight.Problem::toString).toList());
        }
        DienScoringJob.forKafka(config).addTo(env);
        env.execute("dien-flink scoring");
        return 0;
    }
}

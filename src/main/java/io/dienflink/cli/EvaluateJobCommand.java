package io.dienflink.cli;

import io.dienflink.evaluate.EvaluateConfig;
import io.dienflink.evaluate.EvaluateJob;
import io.dienflink.job.DienScoringJob;
import io.dienflink.job.JobPreflight;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The online evaluation job of the job jar: {@code flink run dien-flink-job.jar evaluate ...}
 * (docs/evaluation.md). The tool jar's {@code evaluate} is the offline one (a bundle on a file).
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Runs the online evaluation job: labels the champion's (ctr-scores) and the challenger's",
                "(ctr-scores-shadow) scores with the clicks that follow them, writes per model and minute a ModelEval",
                "record (model-eval) and, with -Ddien.eval.serving-log=true, the labelled serving log.",
                "Settings: -Dkey=value or --config FILE; keys and defaults: docs/evaluation.md."})
final class EvaluateJobCommand implements Callable<Integer> {
    @CommandLine.Mixin
    JobSettings settings = new JobSettings();

    @Override
    public Integer call() throws Exception {
        Configuration conf = settings.configuration();
        EvaluateConfig config;
        try {
            config = EvaluateConfig.from(conf);
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
        DienScoringJob.configure(conf, config.checkpointInterval(), config.deliveryGuarantee());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        List<JobPreflight.Problem> problems = JobPreflight.problems(env.getConfiguration(), config.deliveryGuarantee(),
                config.checkpointInterval(), config.transactionTimeout(),
                config.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE
                        ? JobPreflight.brokerMaxTransactionMs(config.bootstrapServers(), config.clientProperties())
                        : OptionalLong.empty());
        if (!problems.isEmpty()) {
            throw new UsageException(problems.stream().map(JobPreflight.Problem::toString).toList());
        }
        EvaluateJob.forKafka(config).addTo(env);
        env.execute("dien-flink evaluate");
        return 0;
    }
}

package io.dienflink.cli;

import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienScoringJob;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
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
    @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", description = "Kafka bootstrap servers (dien.kafka.bootstrap-servers).")
    String bootstrapServers;

    @Option(names = "--model", paramLabel = "DIR", description = "Model bundle directory or zip (dien.model.path).")
    String model;

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings.")
    Path configFile;

    @Option(names = "-D", paramLabel = "key=value", description = "A setting; repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        Configuration conf = new Configuration();
        if (configFile != null) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(configFile)) {
                p.load(in);
            } catch (IOException e) {
                throw new Main.InputException("cannot read " + configFile + ": " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> conf.setString(k, p.getProperty(k)));
        }
        settings.forEach(conf::setString);
        if (bootstrapServers != null) {
            conf.setString("dien.kafka.bootstrap-servers", bootstrapServers);
        }
        if (model != null) {
            conf.setString("dien.model.path", model);
        }
        DienJobConfig config;
        try {
            config = DienJobConfig.from(conf);
            config.requireBootstrapServers();
        } catch (IllegalArgumentException e) {
            throw new Main.InputException(e.getMessage());
        }
        DienScoringJob.configure(conf, config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        DienScoringJob.forKafka(config).addTo(env);
        env.execute("dien-flink scoring");
        return 0;
    }
}

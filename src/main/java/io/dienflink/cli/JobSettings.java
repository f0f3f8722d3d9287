package io.dienflink.cli;

import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.kafka.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import picocli.CommandLine.Option;

/**
 * The job's settings as every command that talks to an external Kafka takes them ({@code run},
 * {@code generate}, {@code read-scores}, {@code verify}): a properties file, {@code -D key=value} pairs on top of
 * it, and {@code --bootstrap-servers} on top of those. So topics and Kafka client settings (SASL,
 * SSL: {@code dien.kafka.client.*}) are given once, the same way, to the job and to its tools.
 */
final class JobSettings {
    @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", description = "Kafka bootstrap servers (dien.kafka.bootstrap-servers).")
    String bootstrapServers;

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings (keys: docs/job.md).")
    Path configFile;

    @Option(names = "-D", paramLabel = "key=value",
            description = "A setting, e.g. -Ddien.topic.clicks=... or -Ddien.kafka.client.security.protocol=SASL_SSL; repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    /** The settings as a Flink configuration (the file, then -D, then the options). */
    Configuration configuration() {
        Configuration conf = new Configuration();
        if (configFile != null) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(configFile)) {
                p.load(in);
            } catch (IOException e) {
                throw new InputException("cannot read " + configFile + ": " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> conf.setString(k, p.getProperty(k)));
        }
        settings.forEach(conf::setString);
        if (bootstrapServers != null) {
            conf.set(DienJobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
        }
        return conf;
    }

    /** The settings with {@code --model}, when given, as {@code dien.model.path}. */
    Configuration configuration(String model) {
        Configuration conf = configuration();
        if (model != null) {
            conf.set(DienJobOptions.MODEL_PATH, model);
        }
        return conf;
    }

    /**
     * What a tool needs to reach the job's Kafka: servers, topics, client settings, and whether the
     * job writes in transactions (then readers must read committed records only).
     */
    record Kafka(String bootstrapServers, Topics topics, Properties client, boolean exactlyOnce) {}

    /** The Kafka part of the settings, for the tools; bootstrap servers are required, a model is not. */
    Kafka kafka() {
        Configuration conf = configuration();
        String servers = conf.get(DienJobOptions.BOOTSTRAP_SERVERS);
        if (servers == null || servers.isBlank()) {
            throw new InputException(DienJobOptions.BOOTSTRAP_SERVERS.key() + ": is required");
        }
        Properties client = new Properties();
        client.putAll(DienJobConfig.kafkaClientSettings(conf));
        try {
            return new Kafka(servers, DienJobConfig.topics(conf), client,
                    DienJobOptions.deliveryGuarantee(conf) == DeliveryGuarantee.EXACTLY_ONCE);
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
    }

    /** The validated job settings of {@code conf}; bootstrap servers are required. */
    static DienJobConfig jobConfig(Configuration conf) {
        try {
            DienJobConfig config = DienJobConfig.from(conf);
            config.requireBootstrapServers();
            return config;
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
    }
}

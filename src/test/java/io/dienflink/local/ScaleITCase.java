package io.dienflink.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.bootstrap.Population;
import io.dienflink.bootstrap.SyntheticBootstrap;
import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.KafkaClients;
import io.dienflink.kafka.Topics;
import io.dienflink.kafka.UserKeys;
import io.dienflink.model.ModelBundle;
import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.verify.RunVerifier;
import io.dienflink.verify.ScoreWatcher;
import io.dienflink.verify.VerifyReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job at scale from its first second: {@code bootstrap} writes a savepoint of
 * {@value #USERS} users with full windows (the demo bundle, T = 30, 40 clicks each), the job jar
 * starts from it on the local standalone cluster (JobManager, two TaskManagers and a broker, each
 * its own JVM, as deploy/ ships a cluster), and a sample of {@value #SAMPLE} users spread over all
 * of them is sent requests, a third of them clicks and then requests again. The checker recomputes
 * every score from the users' bootstrapped histories ({@link Population#priorClicks()}, the very
 * clicks the bootstrap applied) followed by the clicks of the topic, and probes every sampled user's
 * final window: every request scored, every score right. Without the histories the same scores are
 * wrong: they do come from the restored state.
 *
 * <p>The time from the job's submission to its first score (restoring {@value #USERS} users) is
 * printed and written to {@code target/scale-itcase.txt}; it is a measurement, not a pass mark.
 *
 * <p>Two system properties run the same check on another release's state and job: {@code
 * -Dscale.savepoint=DIR} restores DIR instead of bootstrapping (it must hold the same population: the
 * demo bundle's {@value #USERS} users of seed 7, T + 10 clicks each), and {@code -Dscale.job-jar=JAR}
 * submits JAR instead of this build's job jar. With the legacy-layout bootstrap of docs/tools/legacy-layout
 * and release 619fd5e's job jar, that checks the savepoint the layout comparison at scale starts from.
 */
class ScaleITCase {
    private static final Path MODEL = Path.of("bundles", "demo").toAbsolutePath();
    private static final int USERS = 25_000;
    private static final int SAMPLE = 300;
    private static final int CANDIDATES = 5;
    private static final Path RECORD = Path.of("target", "scale-itcase.txt");

    @TempDir
    Path tmp;

    private LocalCluster cluster;
    private String jobId;

    @AfterEach
    void down() throws Exception {
        if (cluster != null) {
            if (jobId != null) {
                FlinkCli.run(cluster, List.of("cancel", jobId), new PrintWriter(new StringWriter()));
            }
            cluster.down();
        }
    }

    @Test
    void aBootstrappedJobScoresEveryUserFromItsHistory() throws Exception {
        long began = System.currentTimeMillis();
        cluster = new LocalCluster(tmp.resolve("cluster"));
        cluster.up(new LocalCluster.Settings(2, 2, 0));
        String kafka = cluster.bootstrapServers();
        log(began, "cluster up, kafka " + kafka);

        ModelBundle bundle = ModelBundle.load(MODEL);
        Population population = new Population(USERS, 7, bundle.config().maxHistory() + 10);
        String given = System.getProperty("scale.savepoint");
        String savepoint = given != null ? Path.of(given).toUri().toString()
                : cluster.savepointDir().resolve("bootstrap-" + USERS).toUri().toString();
        SyntheticBootstrap.Result boot = null; // none when the savepoint is given
        if (given == null) {
            boot = SyntheticBootstrap.write(new SyntheticBootstrap.Settings(population, MODEL, savepoint, 2,
                    SyntheticBootstrap.defaultMaxParallelism(2), System.currentTimeMillis()), bundle);
            assertThat(boot.users()).isEqualTo(USERS);
            log(began, String.format("bootstrapped %d users in %.1f s, %d bytes (%.0f per user)", boot.users(),
                    boot.millis() / 1000.0, boot.savepointBytes(), boot.bytesPerUser()));
        } else {
            log(began, "restoring the given savepoint " + savepoint);
        }

        String id = "scale-" + began;
        Topics topics = Topics.prefixed(id);
        Properties client = new Properties();
        client.put("bootstrap.servers", kafka);
        KafkaClients.createTopics(client, 2, topics.all());
        Map<String, String> settings = FlinkCli.ownTopics(topics, id);
        // every request is checked: none skipped at start, none expired while the job restores
        settings.put(DienJobOptions.REQUEST_INITIAL_OFFSET.key(), "EARLIEST");
        settings.put(DienJobOptions.REQUEST_MAX_AGE.key(), "0s");

        SyntheticWorld world = population.world();
        int[] sample = sample();
        for (int u : sample) { // the world goes on where each user's bootstrapped history ended
            world.skip(u, population.clicksPerUser());
        }
        try (ScoreWatcher scores = new ScoreWatcher(kafka, topics.scores(), id + "-watcher", false);
             KafkaProducer<byte[], byte[]> producer = KafkaClients.trafficProducer(kafka, client)) {
            long submitted = System.currentTimeMillis();
            String jar = System.getProperty("scale.job-jar");
            jobId = FlinkCli.submitJob(cluster, jar != null ? Path.of(jar) : JobJar.resolve(null), savepoint, kafka, MODEL, settings);
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int u : sample) {
                sent.add(request(producer, topics, world, u, "first"));
            }
            for (int i = 0; i < sample.length; i += 3) {
                int u = sample[i];
                for (int k = 0; k < 3; k++) {
                    SyntheticWorld.Click c = world.click(u);
                    sent.add(producer.send(new ProducerRecord<>(topics.clicks(), UserKeys.key(c.userId()),
                            AvroMessages.encode(new ClickEvent(id + "-click-" + u + "-" + k, c.userId(), c.itemId(),
                                    c.categoryId(), Instant.now())))));
                }
                sent.add(request(producer, topics, world, u, "after-clicks"));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
            ScoreWatcher.Seen first = scores.await(0, s -> true, Duration.ofMinutes(3))
                    .orElseThrow(() -> new AssertionError("no score within 3 minutes of the job's submission"));
            long firstScoreMs = first.observedAtMs() - submitted;
            String line = String.format("scale-itcase users=%d time_to_first_score_s=%.1f bootstrap_s=%.1f "
                    + "savepoint_bytes=%d", USERS, firstScoreMs / 1000.0, boot == null ? 0 : boot.millis() / 1000.0,
                    boot == null ? -1 : boot.savepointBytes());
            System.out.println(line);
            Files.createDirectories(RECORD.toAbsolutePath().getParent());
            Files.writeString(RECORD, line + System.lineSeparator(), StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING);
            assertThat(Files.readString(RECORD)).contains("time_to_first_score_s=");
            assertThat(firstScoreMs).as("measured from the submission").isPositive();
            log(began, "job " + jobId + " restored and scoring; first score " + firstScoreMs + " ms after submission");
        }

        Configuration conf = new Configuration();
        settings.forEach(conf::setString);
        conf.set(DienJobOptions.BOOTSTRAP_SERVERS, kafka);
        conf.set(DienJobOptions.MODEL_PATH, MODEL.toString());
        DienJobConfig config = DienJobConfig.from(conf);
        VerifyReport report = RunVerifier.verify(config,
                new RunVerifier.Options(true, Duration.ofSeconds(120), population.priorClicks()));
        log(began, report.line());
        int requests = SAMPLE + (SAMPLE + 2) / 3;
        // the sampled users' requests, and a probe each (every sampled user has clicks: its history),
        // more if the verifier asked again while the job was still reading the clicks
        assertThat(report.requests()).as(report.line()).isGreaterThanOrEqualTo(requests + SAMPLE);
        assertThat(report.scored()).as(report.line()).isEqualTo(report.requests());
        assertThat(report.wrong()).as(report.line() + report.violations()).isZero();
        assertThat(report.windowsWrong()).as(report.line() + report.violations()).isZero();
        assertThat(report.ok()).as(report.line() + report.violations()).isTrue();

        // the same scores checked as if the users had no bootstrapped history: all wrong
        VerifyReport blind = RunVerifier.verify(config, new RunVerifier.Options(false, Duration.ofSeconds(10)));
        log(began, "without the histories: " + blind.line());
        assertThat(blind.wrong()).as(blind.line()).isEqualTo(blind.scored()).isEqualTo(report.requests());
        log(began, "checked");
    }

    /** {@value #SAMPLE} distinct user indices spread over all users, the first and the last among them. */
    private static int[] sample() {
        int[] users = new int[SAMPLE];
        for (int i = 0; i < SAMPLE; i++) {
            users[i] = (int) ((long) i * USERS / SAMPLE) + i % 7;
        }
        users[SAMPLE - 1] = USERS - 1;
        return users;
    }

    /** A request of user index {@code u} with candidates the world draws for the user now. */
    private static Future<RecordMetadata> request(KafkaProducer<byte[], byte[]> producer, Topics topics, SyntheticWorld world,
                                                  int u, String what) {
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < CANDIDATES; i++) {
            SyntheticWorld.Candidate c = world.candidate(u);
            candidates.add(new Candidate(c.itemId(), c.categoryId()));
        }
        long user = SyntheticWorld.id(u);
        AdRequest r = AdRequest.newBuilder().setRequestId("scale-" + what + "-" + u).setUserId(user)
                .setEventTime(Instant.now()).setCandidates(candidates).build();
        return producer.send(new ProducerRecord<>(topics.requests(), UserKeys.key(user), AvroMessages.encode(r)));
    }

    private static void log(long began, String step) {
        System.out.printf("scale: %s at %.1f s%n", step, (System.currentTimeMillis() - began) / 1000.0);
    }
}

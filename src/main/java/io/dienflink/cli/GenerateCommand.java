package io.dienflink.cli;

import io.dienflink.traffic.SyntheticWorld;
import io.dienflink.traffic.TrafficGenerator;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The synthetic traffic generator against an external Kafka (the docker-compose `traffic` service). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Produces synthetic clicks and ad requests (SyntheticWorld, the demo's traffic) to Kafka until stopped.")
final class GenerateCommand implements Callable<Integer> {
    /** Kafka servers, topics (dien.topic.*) and client settings, as `run` takes them. */
    @CommandLine.Mixin
    JobSettings settings = new JobSettings();

    @Option(names = "--clicks-per-second", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}")
    double clicksPerSecond;

    @Option(names = "--requests-per-second", defaultValue = "100", description = "Default: ${DEFAULT-VALUE}")
    double requestsPerSecond;

    @Option(names = "--candidates", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}")
    int candidates;

    @Option(names = "--malformed", defaultValue = "0.001", description = "Share of malformed records. Default: ${DEFAULT-VALUE}")
    double malformed;

    @Option(names = "--duration", converter = DurationConverter.class, description = "Stop after this long. Default: never.")
    Duration duration;

    @Option(names = "--seed", defaultValue = "7", description = "Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--users", defaultValue = "10000", description = "Synthetic users (ids 1000·(i+1)); past the demo "
            + "bundle's 10,000 they are unknown to its user vocabulary (row 0, counted). Default: ${DEFAULT-VALUE}")
    int users;

    @Option(names = "--fill-clicks-per-user", paramLabel = "K", description = "Instead of traffic: send K clicks of "
            + "every user, user after user, as fast as Kafka takes them, then exit (K ≥ the model's T fills every "
            + "window, for measurements at --users users).")
    Integer fillClicksPerUser;

    @CommandLine.Mixin
    ResponseOptions responses = new ResponseOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        JobSettings.Kafka kafka = settings.kafka();
        TrafficGenerator g = new TrafficGenerator(kafka.bootstrapServers(), kafka.client(), kafka.topics(),
                SyntheticWorld.demo(users, seed),
                new TrafficGenerator.Rates(clicksPerSecond, requestsPerSecond, candidates, malformed, Long.MAX_VALUE,
                        Long.MAX_VALUE));
        try (g) {
            if (fillClicksPerUser != null) {
                g.fill(fillClicksPerUser);
                status(err, g);
                return g.failed() > 0 ? 1 : 0;
            }
            responses.apply(g, seed).start();
            long end = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
            while (System.nanoTime() < end) {
                Thread.sleep(Math.min(10_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
                status(err, g);
            }
        }
        // after close: the final flush has given every send its outcome
        status(err, g);
        if (g.failed() > 0) {
            err.println("error: Kafka did not accept " + g.failed() + " records; see the log above.");
            err.flush();
            return 1;
        }
        return 0;
    }

    private static void status(PrintWriter err, TrafficGenerator g) {
        err.printf("sent clicks=%d requests=%d malformed=%d failed=%d%n", g.clicks(), g.requests(), g.malformed(), g.failed());
        err.flush();
    }
}

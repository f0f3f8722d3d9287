package io.dienflink.cli;

import io.dienflink.traffic.ResponseModel;
import io.dienflink.traffic.TrafficGenerator;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The response model's options of the traffic commands ({@code demo}, {@code generate}); see docs/evaluation.md. */
final class ResponseOptions {
    @Option(names = "--responses",
            description = "The synthetic users click requested candidates with their true probability (the planted "
                    + "interests) after a delay, on the clicks topic: labels for the evaluate job. Off by default.")
    boolean responses;

    @Option(names = "--response-delay-min", defaultValue = "1s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Shortest delay from a request to its response click. Default: ${DEFAULT-VALUE}")
    Duration minDelay;

    @Option(names = "--response-delay-max", defaultValue = "10s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Longest delay (uniform in between). Default: ${DEFAULT-VALUE}")
    Duration maxDelay;

    /** Turns the response model on in {@code generator} when asked for, seeded with the traffic's seed. */
    TrafficGenerator apply(TrafficGenerator generator, long seed) {
        if (responses) {
            try {
                generator.respond(new ResponseModel(minDelay, maxDelay, seed));
            } catch (IllegalArgumentException e) {
                throw new InputException(e.getMessage());
            }
        }
        return generator;
    }
}

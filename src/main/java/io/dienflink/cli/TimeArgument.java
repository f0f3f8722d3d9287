package io.dienflink.cli;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine;

/**
 * A point in time on the command line: an ISO-8601 instant ({@code 2026-12-07T15:00:00Z}), epoch
 * milliseconds, {@code now}, or {@code now-DURATION} ({@code now-30min}, durations as Flink settings
 * write them).
 */
final class TimeArgument implements CommandLine.ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
        String v = value.trim();
        if (v.equals("now")) {
            return Instant.now();
        }
        if (v.startsWith("now-")) {
            return Instant.now().minus(TimeUtils.parseDuration(v.substring(4)));
        }
        if (!v.isEmpty() && v.chars().allMatch(Character::isDigit)) {
            return Instant.ofEpochMilli(Long.parseLong(v));
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw new CommandLine.TypeConversionException("'" + value
                    + "' is not a time: give an ISO-8601 instant (2026-12-07T15:00:00Z), epoch milliseconds, now or now-30min");
        }
    }
}

package io.dienflink.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Keeps stdout for a command's results while it runs embedded services: libraries (Kafka's storage
 * formatter among them) print to {@code System.out}, so while this is open {@code System.out} goes
 * to stderr, and the command writes its results through {@link #out()}, which still reaches the
 * real stdout. Closing restores {@code System.out}.
 */
final class ResultsOnStdout implements AutoCloseable {
    private final PrintStream stdout;
    private final PrintWriter out;

    private ResultsOnStdout(CommandSpec spec) {
        // picocli wraps System.out on the first getOut(): take it before the swap
        this.out = spec.commandLine().getOut();
        this.stdout = System.out;
        System.setOut(System.err);
    }

    static ResultsOnStdout take(CommandSpec spec) {
        return new ResultsOnStdout(spec);
    }

    /** The real stdout. */
    PrintWriter out() {
        return out;
    }

    @Override
    public void close() {
        out.flush();
        System.setOut(stdout);
    }
}

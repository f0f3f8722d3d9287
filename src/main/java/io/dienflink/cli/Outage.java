package io.dienflink.cli;

import io.dienflink.local.EmbeddedPipeline;
import java.io.PrintWriter;
import java.time.Duration;

/**
 * A planned outage of the embedded job: stop with a savepoint at a given time after traffic
 * started, stay down while traffic goes on, resume from the savepoint. Runs on its own thread so
 * that the demo's status line keeps going.
 */
final class Outage {
    private final Thread thread;
    private volatile String phase = "run";
    private volatile long resumedNanos = -1;
    private volatile Exception failure;

    private Outage(EmbeddedPipeline pipeline, Duration at, Duration down, PrintWriter err) {
        this.thread = new Thread(() -> {
            try {
                Thread.sleep(at.toMillis());
                phase = "stopping";
                String savepoint = pipeline.stopWithSavepoint();
                phase = "down";
                err.println("Outage: job stopped with savepoint " + savepoint + "; restarting in " + down.toSeconds() + " s");
                err.flush();
                Thread.sleep(down.toMillis());
                resumedNanos = System.nanoTime();
                pipeline.resume(savepoint);
                phase = "resumed";
                err.println("Outage: job resubmitted from the savepoint");
                err.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                failure = e;
                phase = "failed";
            }
        }, "demo-outage");
        this.thread.setDaemon(true);
    }

    static Outage start(EmbeddedPipeline pipeline, Duration at, Duration down, PrintWriter err) {
        Outage o = new Outage(pipeline, at, down, err);
        o.thread.start();
        return o;
    }

    /** {@code run}, {@code stopping}, {@code down}, {@code resumed} or {@code failed}. */
    String phase() {
        return phase;
    }

    /** Seconds from {@code startNanos} to the resubmission, or -1 before it. */
    double resumedAt(long startNanos) {
        long r = resumedNanos;
        return r < 0 ? -1 : (r - startNanos) / 1e9;
    }

    /** Waits for the outage to be over; rethrows what made it fail. */
    void await() throws Exception {
        thread.join();
        if (failure != null) {
            throw failure;
        }
    }
}

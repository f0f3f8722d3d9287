package io.dienflink.traffic;

import java.time.Duration;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A steady stream of probe requests ({@link ScoreReader#PROBE_PREFIX}, one candidate each) to
 * uniformly random users, on a thread of its own until {@link #close()}: while a job is being
 * (re)submitted, some request is always fresh, so the first score it gives ({@link FirstScore})
 * marks the moment it serves again, whether or not other traffic runs. Random users, so that every
 * scorer subtask gets probes. Probes are not counted as traffic by {@link ScoreReader}.
 */
public final class ProbeStream implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProbeStream.class);

    private final Thread thread;
    private volatile boolean running = true;
    private volatile long sent;

    private ProbeStream(TrafficGenerator via, int users, String name, Duration every) {
        SplittableRandom rnd = new SplittableRandom(name.hashCode());
        this.thread = new Thread(() -> {
            long n = 0;
            while (running) {
                try {
                    via.probe(ScoreReader.PROBE_PREFIX + name + "-" + n++, rnd.nextInt(users));
                    via.flush();
                    sent = n;
                    Thread.sleep(every.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (RuntimeException e) {
                    // the broker is busy or restarting: the next probe tries again
                    LOG.debug("Probe {} not sent: {}", n, e.toString());
                }
            }
        }, "probe-stream-" + name);
        this.thread.setDaemon(true);
    }

    /**
     * Starts sending a probe {@code <prefix><name>-<n>} every {@code every} through {@code via}
     * (which need not be started; its producer is shared) to users {@code 0 … users − 1}.
     */
    public static ProbeStream start(TrafficGenerator via, int users, String name, Duration every) {
        ProbeStream p = new ProbeStream(via, users, name, every);
        p.thread.start();
        return p;
    }

    /** Probes sent so far. */
    public long sent() {
        return sent;
    }

    /** Stops sending (waits up to 5 s for the thread). */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5_000);
    }
}

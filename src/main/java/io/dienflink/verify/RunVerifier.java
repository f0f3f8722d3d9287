package io.dienflink.verify;

import io.dienflink.job.DienJobConfig;
import java.time.Duration;

/**
 * The consistency checker of a run (the {@code verify} subcommand, and the fault-injection tests):
 * reads the clicks, requests, scores and dead-letter topics and checks every promise the job makes.
 * SKELETON: the API is fixed, the implementation is being written.
 */
public final class RunVerifier {
    /**
     * @param probe send one probe request per user that has clicks and check that it is scored with
     *     every distinct click applied (the user's final window)
     * @param timeout how long to wait for missing scores, dead letters and probe answers
     */
    public record Options(boolean probe, Duration timeout) {
        public static Options defaults() {
            return new Options(true, Duration.ofSeconds(60));
        }
    }

    private RunVerifier() {}

    /** Verifies the run of the job configured by {@code config} (servers, topics, model, guarantee, limits). */
    public static VerifyReport verify(DienJobConfig config, Options options) throws Exception {
        throw new UnsupportedOperationException("not yet");
    }
}

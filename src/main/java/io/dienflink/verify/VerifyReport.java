package io.dienflink.verify;

import java.util.List;

/**
 * The outcome of {@link RunVerifier#verify}: counts over one run's four topics and the first
 * violations found, each described in a line.
 *
 * @param requests valid requests on the requests topic (including the verifier's probes)
 * @param scored valid requests with at least one (exactly-once: committed) score
 * @param missing valid requests without a score
 * @param duplicates scores beyond the first for a request (a violation under exactly-once only)
 * @param wrong scores that differ from the model core's over the user's first clicks_applied
 *     distinct clicks by more than the reproducibility bound, or that claim more clicks than exist,
 *     or whose user, candidates, model fingerprint or history_length do not match
 * @param deadLetters records on the dead-letter topic
 * @param malformed invalid records on the clicks and requests topics
 * @param deadLettersMissing invalid records with no dead letter
 * @param deadLettersDoubled dead letters beyond the first for a record (a violation under exactly-once only)
 * @param unexpected scores for no valid request, and dead letters for no invalid record
 * @param windowsWrong users whose probe did not show every distinct click applied
 * @param exactlyOnce whether duplicates count as violations
 * @param violations the first violations, one line each
 */
public record VerifyReport(long requests, long scored, long missing, long duplicates, long wrong, long deadLetters,
                           long malformed, long deadLettersMissing, long deadLettersDoubled, long unexpected,
                           long windowsWrong, boolean exactlyOnce, List<String> violations) {

    /** True when nothing is missing, nothing wrong, and (under exactly-once) nothing doubled. */
    public boolean ok() {
        return missing == 0 && wrong == 0 && deadLettersMissing == 0 && unexpected == 0 && windowsWrong == 0
                && (!exactlyOnce || (duplicates == 0 && deadLettersDoubled == 0));
    }

    /** The one-line summary {@code verify requests=.. scored=.. missing=.. duplicates=.. wrong=.. dead_letters=..}. */
    public String line() {
        return "verify requests=" + requests + " scored=" + scored + " missing=" + missing + " duplicates=" + duplicates
                + " wrong=" + wrong + " dead_letters=" + deadLetters + " malformed=" + malformed
                + " dead_letters_missing=" + deadLettersMissing + " dead_letters_doubled=" + deadLettersDoubled
                + " unexpected=" + unexpected + " windows_wrong=" + windowsWrong + " ok=" + ok();
    }
}

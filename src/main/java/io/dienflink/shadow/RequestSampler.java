package io.dienflink.shadow;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;

/**
 * A deterministic share of requests, chosen by a hash of the request id: the same request id is
 * sampled or not on every subtask, after every restart and in every build, so a request replayed
 * after a failure is handed off again exactly when it was the first time. Each purpose hashes with
 * its own salt, so two samplers of the same share pick independent sets (a request in the shadow
 * sample is no likelier to be in the serving-log sample).
 *
 * <p>The hash: 64-bit FNV-1a over the salt's and the id's UTF-8 bytes, then the SplitMix64
 * finalizer (FNV-1a alone mixes the last bytes poorly, and request ids often differ only there);
 * its top 53 bits as a fraction in [0, 1) are compared with the share.
 */
public final class RequestSampler implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private final String salt;
    private final double share;

    /**
     * @param salt tells the purposes apart ({@code "shadow"}, {@code "serving-log"})
     * @param share the fraction of request ids sampled, in [0, 1]
     */
    public RequestSampler(String salt, double share) {
        if (!(share >= 0 && share <= 1)) {
            throw new IllegalArgumentException("share must be in [0, 1]: " + share);
        }
        this.salt = salt;
        this.share = share;
    }

    public double share() {
        return share;
    }

    /** Whether any request is sampled at all. */
    public boolean active() {
        return share > 0;
    }

    /** Whether the request with this id is in the sample. */
    public boolean sampled(String requestId) {
        if (share >= 1) {
            return true;
        }
        if (share <= 0) {
            return false;
        }
        return fraction(requestId) < share;
    }

    /** The request id's position in [0, 1) under this sampler's salt. */
    double fraction(String requestId) {
        long h = FNV_OFFSET;
        h = fnv(h, salt);
        h = (h ^ 0xff) * FNV_PRIME; // a separator byte no UTF-8 text contains: ("ab","c") ≠ ("a","bc")
        h = fnv(h, requestId);
        return (mix(h) >>> 11) * 0x1.0p-53;
    }

    private static long fnv(long h, String s) {
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        return h;
    }

    /** SplitMix64's finalizer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "RequestSampler[" + salt + ", " + share + "]";
    }
}

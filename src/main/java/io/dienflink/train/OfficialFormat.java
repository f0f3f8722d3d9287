package io.dienflink.train;

import io.dienflink.model.Fnv1a;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The official DIEN data format (e.g. {@code local_train_splitByUser}): one example per line,
 * {@code label \t uid \t mid \t cat \t mid_history \t cat_history}, histories separated by
 * {@code \x02}, oldest first. Ids are strings there; a purely numeric id is used as the raw id, any
 * other is mapped to one with {@link #rawId(String)} — producers of clicks and requests for a model
 * trained on such data must map ids the same way.
 */
public final class OfficialFormat {
    private OfficialFormat() {}

    /** Reads a file; a malformed line stops with its line number. */
    public static List<RawSample> read(Path file) throws IOException {
        List<RawSample> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                out.add(parse(line, file + ":" + number));
            }
        }
        return out;
    }

    /**
     * Splits examples by user, as the official {@code splitByUser} files are: the users seen last
     * (the last tenth, at least one, in order of first appearance) are held out with all their
     * examples, so no user's history is on both sides.
     *
     * @throws IllegalArgumentException if the examples have fewer than two users
     */
    public static RawData splitByUser(String description, List<RawSample> all) {
        java.util.LinkedHashSet<Long> users = new java.util.LinkedHashSet<>();
        all.forEach(x -> users.add(x.user()));
        if (users.size() < 2) {
            throw new IllegalArgumentException("cannot hold out users from " + users.size() + " user(s); give a held-out file");
        }
        int keep = users.size() - Math.max(1, users.size() / 10);
        java.util.Set<Long> heldOut = new java.util.HashSet<>(new ArrayList<>(users).subList(keep, users.size()));
        List<RawSample> train = new ArrayList<>();
        List<RawSample> test = new ArrayList<>();
        for (RawSample x : all) {
            (heldOut.contains(x.user()) ? test : train).add(x);
        }
        return new RawData(description + " (" + heldOut.size() + " of " + users.size() + " users held out)", train, test, null);
    }

    static RawSample parse(String line, String where) {
        String[] f = line.split("\t", -1);
        if (f.length != 6) {
            throw new IllegalArgumentException(where + ": expected 6 tab-separated fields, found " + f.length);
        }
        double value;
        try {
            value = Double.parseDouble(f[0].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": label '" + f[0] + "' is not a number");
        }
        // "1" and "1.0" both occur in exported files; 0.9 is not a click label
        if (value != 0 && value != 1) {
            throw new IllegalArgumentException(where + ": label must be 0 or 1, was " + f[0]);
        }
        int label = (int) value;
        String[] mids = f[4].isEmpty() ? new String[0] : f[4].split("\u0002", -1);
        String[] cats = f[5].isEmpty() ? new String[0] : f[5].split("\u0002", -1);
        if (mids.length != cats.length) {
            throw new IllegalArgumentException(where + ": " + mids.length + " history items but " + cats.length + " categories");
        }
        long[] items = new long[mids.length];
        long[] categories = new long[cats.length];
        for (int i = 0; i < mids.length; i++) {
            items[i] = rawId(mids[i]);
            categories[i] = rawId(cats[i]);
        }
        return new RawSample(rawId(f[1]), items, categories, rawId(f[2]), rawId(f[3]), label);
    }

    /**
     * The raw id of a string id (surrounding blanks ignored): its value if it is a decimal number of
     * at most 18 digits, else the 64-bit FNV-1a hash of its UTF-8 bytes ({@link Fnv1a}) with the
     * sign bit cleared (collisions are negligible for vocabularies of millions).
     */
    public static long rawId(String id) {
        String s = id.trim();
        if (!s.isEmpty() && s.length() <= 18 && s.chars().allMatch(Character::isDigit)) {
            return Long.parseLong(s);
        }
        return Fnv1a.hash64(s) & Long.MAX_VALUE;
    }
}

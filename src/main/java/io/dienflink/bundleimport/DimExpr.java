package io.dienflink.bundleimport;

import java.util.Map;

/**
 * A dimension in a mapping file: a sum of terms, each an integer, a symbol or {@code k*SYMBOL}, e.g.
 * {@code "E+3*D+H"}. Symbols are the mapping's {@code dims} plus D = 2E.
 */
final class DimExpr {
    private DimExpr() {}

    static int eval(String expr, Map<String, Integer> dims, String where) {
        int sum = 0;
        for (String term : expr.replace(" ", "").split("\\+")) {
            if (term.isEmpty()) {
                throw new ImportException(where + ": bad dimension expression '" + expr + "'");
            }
            int factor = 1;
            String sym = term;
            int star = term.indexOf('*');
            if (star >= 0) {
                factor = parseInt(term.substring(0, star), expr, where);
                sym = term.substring(star + 1);
            }
            if (sym.chars().allMatch(Character::isDigit)) {
                sum += factor * parseInt(sym, expr, where);
            } else {
                Integer v = dims.get(sym);
                if (v == null) {
                    throw new ImportException(where + ": unknown dimension '" + sym + "' in '" + expr + "' (known: "
                            + dims.keySet() + ")");
                }
                sum += factor * v;
            }
        }
        return sum;
    }

    private static int parseInt(String s, String expr, String where) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new ImportException(where + ": bad dimension expression '" + expr + "'");
        }
    }
}

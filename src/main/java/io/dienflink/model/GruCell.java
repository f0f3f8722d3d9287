package io.dienflink.model;

/**
 * A GRU or AUGRU cell (MODEL_BUNDLE.md section 4) packed for the kernels, stepping a batch of rows.
 *
 * <p>Layout: gate pre-activations of one row are {@code [r | u | c]} at offsets 0, H, 2H of a row of
 * {@link #gateStride} floats, computed over {@code pad(3H)} columns. Element-wise gate math runs over
 * {@code pad(H)} lanes, reading past each gate into the next one; the slack at the end of a gate row
 * is zero, so the candidate's padding lanes are {@code tanh(0) = 0} and a state's padding lanes,
 * which start at zero, stay exactly zero. Consumers read only the first H lanes of a state anyway.
 */
final class GruCell {
    final int in;
    final int hidden;
    /** pad(H): the row stride of states. */
    final int stateStride;
    /** pad(3H): columns the input and recurrent products compute. */
    final int gateWidth;
    /** Row stride of gate buffers, with room for the element-wise over-read. */
    final int gateStride;
    final ResetMode reset;
    /** {@code [in × gateWidth]} */
    final float[] kx;
    /** {@code [gateWidth]} */
    final float[] bx;
    /** reset after: {@code [H × gateWidth]}; reset before: the r and u columns, {@code [H × pad(2H)]}. */
    final float[] kh;
    final float[] bh;
    final int khWidth;
    /** reset before only: the c columns, {@code [H × pad(H)]}, and their bias. */
    final float[] khc;
    final float[] bhc;
    /**
     * The recurrent kernel transposed, one row per gate column, for {@link #stepLanes}: reset after
     * {@code [3H × H]} (r, u, c); reset before {@code [2H × H]} (r, u), the c rows in {@link #khcT}.
     */
    final float[] khT;
    /** reset before only: the c columns transposed, {@code [H × H]}. */
    final float[] khcT;
    /** {@code bias_h} unpadded, {@code [3H]}: row g of a lane step's gate product starts at {@code biasH[g]}. */
    final float[] biasH;

    GruCell(int in, int hidden, ResetMode reset, float[] kernelX, float[] kernelH, float[] biasX, float[] biasH) {
        this.in = in;
        this.hidden = hidden;
        this.reset = reset;
        int h3 = 3 * hidden;
        this.stateStride = Kernels.pad(hidden);
        this.gateWidth = Kernels.pad(h3);
        this.gateStride = Kernels.pad(Math.max(h3, 2 * hidden + stateStride));
        this.kx = DenseLayer.padColumns(kernelX, in, h3, gateWidth);
        this.bx = DenseLayer.padColumns(biasX, 1, h3, gateStride);
        if (reset == ResetMode.AFTER) {
            this.khWidth = gateWidth;
            this.kh = DenseLayer.padColumns(kernelH, hidden, h3, gateWidth);
            this.bh = DenseLayer.padColumns(biasH, 1, h3, gateStride);
            this.khc = null;
            this.bhc = null;
        } else {
            this.khWidth = Kernels.pad(2 * hidden);
            this.kh = new float[hidden * khWidth];
            this.khc = new float[hidden * stateStride];
            for (int i = 0; i < hidden; i++) {
                System.arraycopy(kernelH, i * h3, kh, i * khWidth, 2 * hidden);
                System.arraycopy(kernelH, i * h3 + 2 * hidden, khc, i * stateStride, hidden);
            }
            this.bh = new float[gateStride];
            System.arraycopy(biasH, 0, bh, 0, 2 * hidden);
            this.bhc = new float[stateStride];
            System.arraycopy(biasH, 2 * hidden, bhc, 0, hidden);
        }
        int rows = reset == ResetMode.AFTER ? h3 : 2 * hidden;
        this.khT = transpose(kernelH, h3, 0, rows, hidden);
        this.khcT = reset == ResetMode.AFTER ? null : transpose(kernelH, h3, 2 * hidden, hidden, hidden);
        this.biasH = biasH.clone();
    }

    /** Columns {@code [col0, col0 + cols)} of a row-major {@code [rows × ld]} matrix as a {@code [cols × rows]} matrix. */
    private static float[] transpose(float[] m, int ld, int col0, int cols, int rows) {
        float[] t = new float[cols * rows];
        for (int i = 0; i < rows; i++) {
            for (int g = 0; g < cols; g++) {
                t[g * rows + i] = m[i * ld + col0 + g];
            }
        }
        return t;
    }

    /** Rows of {@code gx} (stride {@link #gateStride}) become {@code x·K_x + b_x} for {@code m} input rows. */
    void inputProjection(Kernels k, float[] x, int xOff, int ldx, int m, float[] gx, int gxOff) {
        if (m == 1) {
            k.gemv(x, xOff, in, kx, 0, gateWidth, bx, 0, gx, gxOff, gateWidth);
            return;
        }
        for (int r = 0; r < m; r++) {
            System.arraycopy(bx, 0, gx, gxOff + r * gateStride, gateStride);
        }
        k.gemm(x, xOff, ldx, kx, 0, gateWidth, gx, gxOff, gateStride, m, gateWidth, in);
    }

    /** Scratch for stepping up to {@code rows} rows at once; grow with {@link #ensure}. */
    static final class Scratch {
        float[] gh = new float[0];
        float[] gate = new float[0];
        float[] rh = new float[0];
        float[] gc = new float[0];
        int rows;

        void ensure(GruCell cell, int m) {
            if (m > rows) {
                rows = Math.max(m, 2 * rows);
                gh = new float[rows * cell.gateStride];
                gate = new float[cell.stateStride];
                rh = new float[rows * cell.stateStride];
                gc = new float[rows * cell.stateStride];
            }
        }
    }

    /** Scratch for {@link #stepLanes} with up to {@code lanes} lanes; grow with {@link #ensure}. */
    static final class LaneScratch {
        /**
         * {@code [3H × lanes]}: the gate product {@code b_h + K_hᵀ·hᵀ}, one row per gate column; the
         * u rows end a step holding u ({@link Kernels#gruFinishLanes} uses them as scratch).
         */
        float[] gh = new float[0];
        /** {@code [H × lanes]}: reset before, {@code r ∘ h}; reset after, {@code r}. */
        float[] r = new float[0];
        /** {@code [H × lanes]}: reset before, {@code b_h.c + K_h.cᵀ·(r ∘ h)ᵀ}. */
        float[] gc = new float[0];
        int lanes;

        void ensure(GruCell cell, int n) {
            if (n > lanes) {
                lanes = Math.max(n, 2 * lanes);
                gh = new float[3 * cell.hidden * lanes];
                r = new float[cell.hidden * lanes];
                gc = new float[cell.hidden * lanes];
            }
        }
    }

    /**
     * One AUGRU step for a batch laid out with one row per lane: {@code hT} is {@code [H × ld]}, its
     * column j the state of row j (a candidate), updated in place. Every row reads the same input
     * pre-activations (the evolver's input is the extractor state, identical for all candidates), so
     * they enter as one number per gate column, and each product is {@code K_hᵀ·hᵀ} for all rows
     * ({@code [3H × H]·[H × ld]}; reset before {@code [2H × H]·[H × ld]}, then {@code [H × H]} times
     * {@code (r ∘ h)ᵀ}): wide enough to keep the FMA pipes busy, with no padded hidden lanes in the
     * gate math.
     *
     * @param gx the step's input pre-activations {@code x·K_x + b_x}, one row of {@link #gateStride}
     * @param ld lanes per row of {@code hT}, {@code mul} and {@code add}; every lane is computed
     * @param mul each lane's keep-gate factor, {@code u ← u ∘ mul + add} (see {@link Kernels#gruFinishLanes})
     */
    void stepLanes(Kernels k, float[] gx, int gxOff, float[] hT, int ld, float[] mul, float[] add, int mOff,
                   LaneScratch s) {
        s.ensure(this, ld);
        int h = hidden;
        int rows = reset == ResetMode.AFTER ? 3 * h : 2 * h;
        float[] gh = s.gh;
        for (int g = 0; g < rows; g++) {
            java.util.Arrays.fill(gh, g * ld, (g + 1) * ld, biasH[g]);
        }
        k.gemm(khT, 0, h, hT, 0, ld, gh, 0, ld, rows, ld, h);
        float[] hc;
        int hcRow;
        float[] r;
        if (reset == ResetMode.BEFORE) {
            for (int i = 0; i < h; i++) {
                k.sigmoidOfShiftTimes(gx[gxOff + i], gh, i * ld, hT, i * ld, s.r, i * ld, ld);
            }
            for (int i = 0; i < h; i++) {
                java.util.Arrays.fill(s.gc, i * ld, (i + 1) * ld, biasH[2 * h + i]);
            }
            k.gemm(khcT, 0, h, s.r, 0, ld, s.gc, 0, ld, h, ld, h);
            hc = s.gc;
            hcRow = 0;
            r = null;
        } else {
            for (int i = 0; i < h; i++) {
                k.sigmoidOfShiftTimes(gx[gxOff + i], gh, i * ld, null, 0, s.r, i * ld, ld);
            }
            hc = gh;
            hcRow = 2 * h;
            r = s.r;
        }
        for (int i = 0; i < h; i++) {
            k.gruFinishLanes(gx[gxOff + h + i], gh, (h + i) * ld, gx[gxOff + 2 * h + i], hc, (hcRow + i) * ld,
                    r, i * ld, mul, add, mOff, hT, i * ld, ld);
        }
    }

    /**
     * One step for {@code m} rows: {@code h[r] ← cell(gx, h[r])}, in place.
     *
     * @param gx input pre-activations; row r at {@code gxOff + r·ldgx} (pass {@code ldgx = 0} to share one row)
     * @param h states, row r at {@code hOff + r·ldh}; updated in place
     * @param attention AUGRU attention weight of each row, or null for a plain GRU step
     * @param form how the AUGRU applies the weight (ignored for a plain GRU)
     */
    void step(Kernels k, float[] gx, int gxOff, int ldgx, float[] h, int hOff, int ldh, int m,
              float[] attention, int attOff, AugruForm form, Scratch s) {
        s.ensure(this, m);
        int hs = stateStride;
        int gs = gateStride;
        float[] gh = s.gh;
        // A single row (a click, or one candidate) is latency-bound: gemv folds the bias in and
        // splits its sums; a batch of candidates is throughput-bound: one blocked gemm.
        if (m == 1) {
            k.gemv(h, hOff, hidden, kh, 0, khWidth, bh, 0, gh, 0, khWidth);
        } else {
            for (int r = 0; r < m; r++) {
                System.arraycopy(bh, 0, gh, r * gs, gs);
            }
            k.gemm(h, hOff, ldh, kh, 0, khWidth, gh, 0, gs, m, khWidth, hidden);
        }
        if (reset == ResetMode.BEFORE) {
            // (r ∘ h)·K_h.c needs r of every row first: gates, then one product for all rows.
            for (int r = 0; r < m; r++) {
                k.sigmoidOfSumTimes(gx, gxOff + r * ldgx, gh, r * gs, h, hOff + r * ldh, s.rh, r * hs, hs);
            }
            if (m == 1) {
                k.gemv(s.rh, 0, hidden, khc, 0, hs, bhc, 0, s.gc, 0, hs);
            } else {
                for (int r = 0; r < m; r++) {
                    System.arraycopy(bhc, 0, s.gc, r * hs, hs);
                }
                k.gemm(s.rh, 0, hs, khc, 0, hs, s.gc, 0, hs, m, hs, hidden);
            }
        }
        for (int r = 0; r < m; r++) {
            int g = gxOff + r * ldgx;
            float mul = 1f;
            float add = 0f;
            if (attention != null) {
                float a = attention[attOff + r];
                if (form == AugruForm.CODE) {
                    mul = 1f - a;
                } else {
                    mul = a;
                    add = 1f - a;
                }
            }
            if (reset == ResetMode.AFTER) {
                k.sigmoidOfSum(gx, g, gh, r * gs, s.gate, 0, hs);
                k.gruFinish(gx, g + hidden, gh, r * gs + hidden, gx, g + 2 * hidden, gh, r * gs + 2 * hidden,
                        s.gate, 0, h, hOff + r * ldh, hs, mul, add);
            } else {
                k.gruFinish(gx, g + hidden, gh, r * gs + hidden, gx, g + 2 * hidden, s.gc, r * hs,
                        null, 0, h, hOff + r * ldh, hs, mul, add);
            }
        }
    }
}

package io.dienflink.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the benchmark report says about the machine, read from {@code /proc/cpuinfo}: CPU model,
 * nominal clock, vector width, and the single-core fp32 peak those imply.
 */
public record MachineInfo(String cpu, int cores, double ghz, int vectorBits, double peakGflopsPerCore) {

    /**
     * Reads the current machine. The peak assumes two FMA pipes of the widest vector width
     * (true of Zen 5 and of Intel server cores with AVX-512; Zen 4 executes 512-bit FMAs at half
     * that rate) at the nominal clock the kernel reports.
     */
    public static MachineInfo current() {
        String model = "unknown";
        double mhz = 0;
        String flags = "";
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            String family = "";
            for (String l : lines) {
                String value = l.contains(":") ? l.substring(l.indexOf(':') + 1).trim() : "";
                if (l.startsWith("model name") && "unknown".equals(model)) {
                    model = value;
                } else if (l.startsWith("cpu MHz") && mhz == 0) {
                    mhz = Double.parseDouble(value);
                } else if (l.startsWith("flags") && flags.isEmpty()) {
                    flags = " " + value + " ";
                } else if (l.startsWith("cpu family") && family.isEmpty()) {
                    family = value;
                }
            }
            if (!family.isEmpty()) {
                model = model + " (family " + family + ")";
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or an unusual cpuinfo: the report says "unknown"
        }
        int bits = flags.contains(" avx512f ") ? 512 : flags.contains(" avx2 ") ? 256 : 128;
        double ghz = mhz / 1000.0;
        double peak = ghz * 2 /* FMA pipes */ * 2 /* flops per FMA */ * (bits / 32.0);
        return new MachineInfo(model, Runtime.getRuntime().availableProcessors(), ghz, bits, peak);
    }
}

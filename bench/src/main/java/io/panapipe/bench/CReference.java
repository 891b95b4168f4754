package io.panapipe.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The C reference ({@code uds_baseline.c}: two processes, plain blocking syscalls over a
 * socketpair). Built with gcc into a temporary directory at run time and run as an external
 * process; its output line is parsed. Never throws for a missing compiler or source: the result
 * then says why the row is not available.
 */
public final class CReference {
    private static final Pattern PINGPONG = Pattern.compile("pingpong size=(\\d+) rtt_us=([0-9.]+)");
    private static final Pattern STREAM = Pattern.compile("stream chunk=(\\d+) MBps=([0-9.]+)");
    private static final long RUN_LIMIT_SECONDS = 60;

    /** A measurement, or the reason there is none. */
    public record Result(double score, double error, String unit, String unavailable) {
        static Result no(String why) { return new Result(Double.NaN, Double.NaN, "", why); }
        public boolean available() { return unavailable == null; }
    }

    private Path binary;
    private String unavailable;
    private Path tmp;

    /** Finds the source, compiles it once; afterwards {@link #unavailable()} says why not, if it failed. */
    public CReference() {
        Optional<Path> src = source();
        if (src.isEmpty()) {
            unavailable = "uds_baseline.c not found (looked in " + String.join(", ",
                    candidates().stream().map(Path::toString).toList())
                    + "; set -Dpanapipe.shared.dir=<dir holding it or tools/ with it>)";
            return;
        }
        try {
            tmp = Files.createTempDirectory("ppb-c");
            Path bin = tmp.resolve("uds_baseline");
            Process p = new ProcessBuilder("gcc", "-O2", "-o", bin.toString(), src.get().toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                unavailable = "gcc did not finish within 60 s";
            } else if (p.exitValue() != 0) {
                unavailable = "gcc failed (exit " + p.exitValue() + "): " + out.strip();
            } else {
                binary = bin;
            }
        } catch (IOException e) {
            unavailable = "gcc not available: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unavailable = "interrupted while compiling";
        }
    }

    /** Null if the reference can run, else why not. */
    public String unavailable() { return unavailable; }

    /** Where the shared directory is: {@code -Dpanapipe.shared.dir}, else {@code <repo>/../shared}. */
    static Path sharedDir() {
        String prop = System.getProperty("panapipe.shared.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath().normalize();
        return Main.repoRoot().resolve("../shared").toAbsolutePath().normalize();
    }

    static List<Path> candidates() {
        Path shared = sharedDir();
        return List.of(shared.resolve("uds_baseline.c"), shared.resolve("tools/uds_baseline.c"));
    }

    static Optional<Path> source() {
        return candidates().stream().filter(Files::isRegularFile).findFirst();
    }

    /** Mean round-trip time in microseconds over {@code reps} runs of {@code iters} round trips. */
    public Result pingpong(int size, long iters, int reps) {
        List<Double> v = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            Object r = run(PINGPONG, "pingpong", Integer.toString(size), Long.toString(iters));
            if (r instanceof String why) return Result.no(why);
            v.add((Double) r);
        }
        return summarize(v, "us/op");
    }

    /** Mean throughput in MiB/s (the program's "MBps" is MiB per second) over {@code reps} runs. */
    public Result stream(int chunk, long totalMiB, int reps) {
        List<Double> v = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            Object r = run(STREAM, "stream", Integer.toString(chunk), Long.toString(totalMiB));
            if (r instanceof String why) return Result.no(why);
            v.add((Double) r);
        }
        return summarize(v, "MiB/s");
    }

    private static Result summarize(List<Double> v, String unit) {
        double mean = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double min = v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        double max = v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        return new Result(mean, (max - min) / 2, unit, null);
    }

    /** The parsed figure (Double), or why there is none (String). */
    private Object run(Pattern pattern, String... args) {
        if (binary == null) return unavailable;
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(RUN_LIMIT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                return "uds_baseline " + String.join(" ", args) + " did not finish within " + RUN_LIMIT_SECONDS + " s";
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = pattern.matcher(out);
            if (p.exitValue() != 0 || !m.find()) {
                return "uds_baseline " + String.join(" ", args) + " failed (exit " + p.exitValue() + "): " + out.strip();
            }
            return Double.parseDouble(m.group(2));
        } catch (IOException e) {
            return "could not run uds_baseline: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Deletes the temporary build directory. */
    public void cleanup() {
        if (tmp != null) Link.deleteTree(tmp);
    }
}

package io.panapipe.bench;

import java.io.IOException;
import java.io.InputStream;
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
 * The C references, run as external processes whose output line is parsed:
 * <ul>
 *   <li>blocking ({@code c}): {@code uds_baseline.c} from the shared directory, two processes, plain
 *       blocking syscalls over a socketpair;</li>
 *   <li>busy-polling ({@code c-spin}): this module's own {@code src/main/c/uds_spin.c} (a resource of
 *       the jar), two processes polling with {@code MSG_DONTWAIT} recv/send loops; it also runs the
 *       blocking program under {@code getrusage} for its CPU time per round trip.</li>
 * </ul>
 * Both are built with gcc into a temporary directory at run time. Never throws for a missing
 * compiler or source: the result then says why the row is not available.
 */
public final class CReference {
    private static final Pattern PINGPONG = Pattern.compile("pingpong size=(\\d+) rtt_us=([0-9.]+)");
    private static final Pattern STREAM = Pattern.compile("stream chunk=(\\d+) MBps=([0-9.]+)");
    private static final Pattern SPIN = Pattern.compile("pingpong-spin size=(\\d+) iters=\\d+ rtt_us=([0-9.]+) cpu_us=([0-9.]+)");
    private static final Pattern RUSAGE = Pattern.compile("rusage cpu_us=([0-9.]+)");
    private static final long RUN_LIMIT_SECONDS = 60;
    /** The round trips uds_baseline does before its timed ones (its CPU time counts them too). */
    private static final long BASELINE_WARMUP = 1000;
    /** The spinning program's own time limit per run: two spinning processes on a busy machine crawl. */
    static final double SPIN_MAX_SECONDS = 2.0;
    static final String SPIN_RESOURCE = "/c/uds_spin.c";

    /** A measurement (with CPU µs per operation where known, else NaN), or the reason there is none. */
    public record Result(double score, double error, String unit, double cpuPerOp, String unavailable) {
        static Result no(String why) { return new Result(Double.NaN, Double.NaN, "", Double.NaN, why); }
        public boolean available() { return unavailable == null; }
    }

    private Path binary;
    private String unavailable;
    private Path spinBinary;
    private String spinUnavailable;
    private Path tmp;

    /** Finds the sources, compiles them once; afterwards {@link #unavailable()} says why not, if it failed. */
    public CReference() {
        try {
            tmp = Files.createTempDirectory("ppb-c");
        } catch (IOException e) {
            unavailable = spinUnavailable = "no temporary directory: " + e.getMessage();
            return;
        }
        try (InputStream in = CReference.class.getResourceAsStream(SPIN_RESOURCE)) {
            if (in == null) {
                spinUnavailable = "uds_spin.c is not in the jar (" + SPIN_RESOURCE + ")";
            } else {
                Path src = tmp.resolve("uds_spin.c");
                Files.write(src, in.readAllBytes());
                Path bin = tmp.resolve("uds_spin");
                spinUnavailable = compile(src, bin);
                if (spinUnavailable == null) spinBinary = bin;
            }
        } catch (IOException e) {
            spinUnavailable = "could not write uds_spin.c: " + e.getMessage();
        }
        Optional<Path> src = source();
        if (src.isEmpty()) {
            unavailable = "uds_baseline.c not found (looked in " + String.join(", ",
                    candidates().stream().map(Path::toString).toList())
                    + "; set -Dpanapipe.shared.dir=<dir holding it or tools/ with it>)";
            return;
        }
        Path bin = tmp.resolve("uds_baseline");
        unavailable = compile(src.get(), bin);
        if (unavailable == null) binary = bin;
    }

    /** gcc -O2; null when it worked, else why not. */
    private static String compile(Path src, Path bin) {
        try {
            Process p = new ProcessBuilder("gcc", "-O2", "-o", bin.toString(), src.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "gcc did not finish within 60 s";
            }
            if (p.exitValue() != 0) return "gcc failed on " + src.getFileName() + " (exit " + p.exitValue() + "): " + out.strip();
            return null;
        } catch (IOException e) {
            return "gcc not available: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while compiling";
        }
    }

    /** Null if the blocking reference can run, else why not. */
    public String unavailable() { return unavailable; }

    /** Null if the busy-polling reference can run, else why not. */
    public String spinUnavailable() { return spinUnavailable; }

    /** Where the shared directory is: {@code -Dpanapipe.shared.dir}, else {@code <repo>/../shared}. */
    static Path sharedDir() {
        String prop = System.getProperty("panapipe.shared.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath().normalize();
        return Main.repoRoot().resolve("../shared").toAbsolutePath().normalize();
    }

    /**
     * Where uds_baseline.c may be: in the shared directory or its {@code tools/}; without
     * {@code -Dpanapipe.shared.dir}, also in {@code shared/} one level further up (a git worktree
     * under {@code <dir>/wt/NAME} beside the clone that has {@code shared/} next to it).
     */
    static List<Path> candidates() {
        List<Path> dirs = new ArrayList<>(List.of(sharedDir()));
        String prop = System.getProperty("panapipe.shared.dir");
        if (prop == null || prop.isBlank()) dirs.add(Main.repoRoot().resolve("../../shared").toAbsolutePath().normalize());
        List<Path> l = new ArrayList<>();
        for (Path d : dirs) {
            l.add(d.resolve("uds_baseline.c"));
            l.add(d.resolve("tools/uds_baseline.c"));
        }
        return List.copyOf(l);
    }

    static Optional<Path> source() {
        return candidates().stream().filter(Files::isRegularFile).findFirst();
    }

    /**
     * Blocking ping-pong: mean round-trip time in microseconds over {@code reps} runs of {@code iters}
     * round trips; CPU µs per round trip from {@code uds_spin rusage} around it (both processes, the
     * program's 1,000 warm-up round trips and its start included), NaN without uds_spin.
     */
    public Result pingpong(int size, long iters, int reps) {
        if (binary == null) return Result.no(unavailable);
        List<Double> v = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            List<String> cmd = new ArrayList<>();
            if (spinBinary != null) cmd.addAll(List.of(spinBinary.toString(), "rusage"));
            cmd.addAll(List.of(binary.toString(), "pingpong", Integer.toString(size), Long.toString(iters)));
            Output r = run("uds_baseline", cmd, PINGPONG);
            if (r.error() != null) return Result.no(r.error());
            String out = r.text();
            Matcher m = PINGPONG.matcher(out);
            m.find();
            v.add(Double.parseDouble(m.group(2)));
            Matcher c = RUSAGE.matcher(out);
            if (c.find()) cpu.add(Double.parseDouble(c.group(1)) / (iters + BASELINE_WARMUP));
        }
        return summarize(v, "us/op", cpu.size() == v.size() ? mean(cpu) : Double.NaN);
    }

    /**
     * Busy-polling ping-pong: mean round-trip time in microseconds over {@code reps} runs of at most
     * {@code iters} round trips (each run stops after {@link #SPIN_MAX_SECONDS} too), and CPU µs per
     * round trip of both processes over the timed round trips.
     */
    public Result spin(int size, long iters, int reps) {
        if (spinBinary == null) return Result.no(spinUnavailable);
        List<Double> v = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            Output r = run("uds_spin", List.of(spinBinary.toString(), "pingpong", Integer.toString(size), Long.toString(iters),
                    Double.toString(SPIN_MAX_SECONDS)), SPIN);
            if (r.error() != null) return Result.no(r.error());
            Matcher m = SPIN.matcher(r.text());
            m.find();
            v.add(Double.parseDouble(m.group(2)));
            cpu.add(Double.parseDouble(m.group(3)));
        }
        return summarize(v, "us/op", mean(cpu));
    }

    /**
     * Mean throughput in MiB/s (the program's "MBps" is MiB per second) over {@code reps} runs; CPU µs
     * per write of {@code chunk} bytes from {@code uds_spin rusage} around it (both processes, start
     * included), NaN without uds_spin.
     */
    public Result stream(int chunk, long totalMiB, int reps) {
        if (binary == null) return Result.no(unavailable);
        List<Double> v = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        double writes = totalMiB * 1048576.0 / chunk;
        for (int i = 0; i < reps; i++) {
            List<String> cmd = new ArrayList<>();
            if (spinBinary != null) cmd.addAll(List.of(spinBinary.toString(), "rusage"));
            cmd.addAll(List.of(binary.toString(), "stream", Integer.toString(chunk), Long.toString(totalMiB)));
            Output r = run("uds_baseline", cmd, STREAM);
            if (r.error() != null) return Result.no(r.error());
            Matcher m = STREAM.matcher(r.text());
            m.find();
            v.add(Double.parseDouble(m.group(2)));
            Matcher c = RUSAGE.matcher(r.text());
            if (c.find()) cpu.add(Double.parseDouble(c.group(1)) / writes);
        }
        return summarize(v, "MiB/s", cpu.size() == v.size() ? mean(cpu) : Double.NaN);
    }

    private static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    private static Result summarize(List<Double> v, String unit, double cpu) {
        double min = v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        double max = v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        return new Result(mean(v), (max - min) / 2, unit, cpu, null);
    }

    /** A program's output (holding a match of the pattern asked for), or why there is none. */
    private record Output(String text, String error) {
        static Output no(String why) { return new Output(null, why); }
    }

    private static Output run(String name, List<String> cmd, Pattern pattern) {
        String args = String.join(" ", cmd.subList(1, cmd.size()));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(RUN_LIMIT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                return Output.no(name + " " + args + " did not finish within " + RUN_LIMIT_SECONDS + " s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0 || !pattern.matcher(out).find()) {
                return Output.no(name + " " + args + " failed (exit " + p.exitValue() + "): " + out.strip());
            }
            return new Output(out, null);
        } catch (IOException e) {
            return Output.no("could not run " + name + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Output.no("interrupted");
        }
    }

    /** Deletes the temporary build directory. */
    public void cleanup() {
        if (tmp != null) Link.deleteTree(tmp);
    }
}

package io.panapipe.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The runnable comparison.
 *
 * <pre>
 *   (no arguments)      platform report, then a short comparison (a few minutes), table and chart
 *   --full              every case: round trip 1 B..64 KiB, streaming 4 KiB..1 MiB, many connections, idle
 *   --case REGEX        only the cases whose id matches (see --list), with the full settings
 *   --list              the case ids
 *   --out DIR           where results go (default: bench/results under the repository)
 *   report JSON [DIR]   only turn a JSON result (JMH -rf json, or ours) into the table and chart
 *   platform            only the platform report
 * </pre>
 */
public final class Main {
    private static final PrintStream OUT = System.out;

    private Main() {}

    enum Kind { ROUND_TRIP, STREAM, C_ROUND_TRIP, C_STREAM, MANY, IDLE, CONNECT }

    /** One case of the comparison; {@code id} is what --case matches. */
    record Case(String id, Kind kind, String peer, int size, String threads) {
        static Case of(Kind kind, String peer, int size, String threads) {
            String k = switch (kind) {
                case ROUND_TRIP, C_ROUND_TRIP -> "roundtrip";
                case STREAM, C_STREAM -> "stream";
                case MANY -> "many";
                case IDLE -> "idle";
                case CONNECT -> "connect";
            };
            return new Case(k + "/" + size + "/" + peer + (threads.isEmpty() ? "" : "/" + threads), kind, peer, size, threads);
        }
    }

    /** The settings of one run. */
    record Settings(boolean quick, int warmups, Duration warmupTime, int measurements, Duration measurementTime,
                    Duration caseLimit, int manySeconds, int manyRounds, double idleSeconds, double wakeTimeout) {
        static final Settings QUICK = new Settings(true, 2, Duration.ofSeconds(1), 4, Duration.ofSeconds(1),
                Duration.ofSeconds(90), 3, 5, 2, 2);
        static final Settings FULL = new Settings(false, 3, Duration.ofSeconds(1), 5, Duration.ofSeconds(1),
                Duration.ofSeconds(180), 5, 3, 3, 3);
    }

    /** A plain field for {@link #run}'s early JMH Unsafe call. */
    static final class WarnEarly {
        int x;
    }

    static final List<String> THREADS = List.of("platform", "virtual");

    /**
     * The quick run: 64 B round trip and 64 KiB streaming for every peer, C blocking and spinning, and
     * the headline (many/1000, idle/1000) and connect/64 (virtual) for every Panapipe peer and the JDK.
     */
    static List<Case> quickCases() {
        List<Case> l = new ArrayList<>();
        for (String p : Peers.javaPeers()) for (String t : THREADS) l.add(Case.of(Kind.ROUND_TRIP, p, 64, t));
        l.add(Case.of(Kind.C_ROUND_TRIP, Peers.C, 64, ""));
        l.add(Case.of(Kind.C_ROUND_TRIP, Peers.C_SPIN, 64, ""));
        for (String p : Peers.javaPeers()) for (String t : THREADS) l.add(Case.of(Kind.STREAM, p, 65536, t));
        l.add(Case.of(Kind.C_STREAM, Peers.C, 65536, ""));
        for (String p : Peers.headline()) l.add(Case.of(Kind.MANY, p, 1000, ""));
        for (String p : Peers.headline()) l.add(Case.of(Kind.IDLE, p, 1000, ""));
        for (String p : Peers.headline()) l.add(Case.of(Kind.CONNECT, p, 64, "virtual"));
        return l;
    }

    static List<Case> fullCases() {
        List<Case> l = new ArrayList<>();
        for (int size : new int[] {1, 64, 4096, 65536}) {
            for (String p : Peers.javaPeers()) for (String t : THREADS) l.add(Case.of(Kind.ROUND_TRIP, p, size, t));
            l.add(Case.of(Kind.C_ROUND_TRIP, Peers.C, size, ""));
            l.add(Case.of(Kind.C_ROUND_TRIP, Peers.C_SPIN, size, ""));
        }
        for (int size : new int[] {4096, 65536, 1048576}) {
            for (String p : Peers.javaPeers()) for (String t : THREADS) l.add(Case.of(Kind.STREAM, p, size, t));
            l.add(Case.of(Kind.C_STREAM, Peers.C, size, ""));
        }
        for (int n : new int[] {10, 100, 1000, 10000}) for (String p : Peers.javaPeers()) l.add(Case.of(Kind.MANY, p, n, ""));
        for (int n : new int[] {1000, 10000}) for (String p : Peers.javaPeers()) l.add(Case.of(Kind.IDLE, p, n, ""));
        for (String p : Peers.javaPeers()) for (String t : THREADS) l.add(Case.of(Kind.CONNECT, p, 64, t));
        return l;
    }

    /**
     * System properties given as {@code -Dname=value} arguments: every JMH fork and harness child JVM
     * gets them (before a Panapipe peer's own {@code -Dpanapipe.engine}, which wins).
     */
    static volatile List<String> properties = List.of();

    /** Takes the {@code -Dname[=value]} arguments out of {@code a} and returns them. */
    static List<String> takeProperties(List<String> a) {
        List<String> props = new ArrayList<>();
        for (var it = a.iterator(); it.hasNext(); ) {
            String s = it.next();
            if (!s.startsWith("-D")) continue;
            if (s.length() < 3 || s.charAt(2) == '=') throw new IllegalArgumentException("a system property needs a name: " + s);
            props.add(s);
            it.remove();
        }
        return List.copyOf(props);
    }

    /**
     * Sets the {@code -D} properties in this JVM too, so the ones the orchestration itself reads
     * ({@code panapipe.bench.caseLimitSeconds}, {@code panapipe.shared.dir}) work given the same way.
     */
    static void applyHere(List<String> props) {
        for (String p : props) {
            int eq = p.indexOf('=');
            if (eq < 0) System.setProperty(p.substring(2), "");
            else System.setProperty(p.substring(2, eq), p.substring(eq + 1));
        }
    }

    public static void main(String[] args) throws Exception {
        List<String> a = new ArrayList<>(List.of(args));
        try {
            properties = takeProperties(a);
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
        }
        applyHere(properties);
        if (properties.stream().anyMatch(p -> p.startsWith("-D" + io.panapipe.internal.Engines.PROPERTY + "="))) {
            System.err.println("panapipe-bench: note: each Panapipe peer runs its own engine; -D"
                    + io.panapipe.internal.Engines.PROPERTY + " only changes the default engine (the ratio reference)");
        }
        Path out = null;
        int o = a.indexOf("--out");
        if (o >= 0) {
            if (o + 1 >= a.size()) usage("--out needs a directory");
            out = Path.of(a.get(o + 1));
            a.remove(o + 1);
            a.remove(o);
        }
        if (out == null) out = repoRoot().resolve("bench/results");
        if (a.isEmpty()) {
            platformReport();
            run(quickCases(), Settings.QUICK, out, "quick", "comparison");
        } else if (a.get(0).equals("--full")) {
            platformReport();
            run(fullCases(), Settings.FULL, out, "full", "full");
        } else if (a.get(0).equals("--case")) {
            if (a.size() < 2) usage("--case needs a regular expression");
            Pattern p = Pattern.compile(a.get(1));
            List<Case> l = fullCases().stream().filter(c -> p.matcher(c.id()).find()).toList();
            if (l.isEmpty()) usage("no case matches " + a.get(1) + " (see --list)");
            platformReport();
            run(l, Settings.FULL, out, "case " + a.get(1), "comparison");
        } else if (a.get(0).equals("--list")) {
            fullCases().forEach(c -> OUT.println(c.id()));
        } else if (a.get(0).equals("report")) {
            if (a.size() < 2) usage("report needs a JSON file");
            Path json = Path.of(a.get(1));
            if (a.size() > 2) out = Path.of(a.get(2));
            Report r = Report.fromJson(Files.readString(json));
            r.defaultMeta(machine());
            String base = json.getFileName().toString().replaceFirst("\\.json$", "");
            List<Path> files = r.write(out, base, "Panapipe IPC comparison");
            OUT.println(r.markdown("Panapipe IPC comparison"));
            OUT.println("Wrote " + files.get(0) + " and " + files.get(1));
        } else if (a.get(0).equals("readme")) {
            if (a.size() < 2) usage("readme needs a JSON file (e.g. bench/results/full-<stamp>.json)");
            Path json = Path.of(a.get(1));
            Report r = Report.fromJson(Files.readString(json));
            // Links relative to the repository root, where the README is.
            Path rel = json.toAbsolutePath().normalize();
            Path root = repoRoot();
            String base = (rel.startsWith(root) ? root.relativize(rel) : rel).toString().replaceFirst("\\.json$", "");
            OUT.print(r.readmeSection(base + ".md", base + ".svg"));
        } else if (a.get(0).equals("pgjdbc")) {
            PgJdbcBench.main(a.subList(1, a.size()).toArray(String[]::new));
        } else if (a.get(0).equals("platform")) {
            platformReport();
        } else if (a.get(0).equals("soak")) {
            Soak.main(a.subList(1, a.size()));
        } else if (a.get(0).equals("-h") || a.get(0).equals("--help")) {
            usage(null);
        } else {
            usage("unknown argument " + a.get(0));
        }
        OUT.flush();
        System.exit(0);
    }

    private static void usage(String error) {
        if (error != null) System.err.println("panapipe-bench: " + error);
        System.err.println("""
                usage: panapipe-bench [--out DIR]                 platform report + quick comparison (a few minutes)
                       panapipe-bench --full [--out DIR]          everything (about 20-25 minutes on 2 cores)
                       panapipe-bench --case REGEX [--out DIR]    the cases whose id matches (ids: --list)
                       panapipe-bench --list                      the case ids
                       panapipe-bench report RESULT.json [DIR]    table and chart from a JSON result only
                       panapipe-bench readme RESULT.json          the Markdown section the top-level README quotes
                       panapipe-bench platform                    the platform report only
                       panapipe-bench pgjdbc [ROUNDS] [OPS]       pgjdbc SELECT 1: Panapipe vs TCP loopback vs junixsocket (starts PostgreSQL)
                       panapipe-bench soak [ENGINE..] [--cycles N] [--races N] [--seconds S]
                                                                  bounded soak per engine (default epoll io_uring nio)
                -Dname=value (any number, anywhere): passed to every JMH fork and harness child JVM (and set here),
                                   e.g. ./run -Dpanapipe.spinMicros=0 --case 'roundtrip/64/'
                system properties: panapipe.shared.dir  where uds_baseline.c is (default <repo>/../shared)
                                   panapipe.bench.caseLimitSeconds  wall-clock limit of one JMH case (90 quick, 180 full)
                                   panapipe.bench.manyRounds  interleaved rounds of each many/ case, median kept (5 quick, 3 otherwise)
                                   panapipe.bench.warmupConnections, panapipe.bench.warmupRequests
                                                              many/'s warm-up connections and their round trips (1000, 32)""");
        System.exit(error == null ? 0 : 2);
    }

    private static void platformReport() {
        PlatformReport.print(OUT);
        OUT.println();
        OUT.flush();
    }

    /**
     * Runs {@code cases} and writes {@code PREFIX-<yyyyMMdd-HHmmss>.{json,md,svg,log}} into {@code outDir}:
     * {@code full-*} for --full (committable: bench/results/.gitignore keeps its .json, .md and .svg),
     * {@code comparison-*} for the quick run and --case (ignored).
     */
    static void run(List<Case> cases, Settings s, Path outDir, String runName, String prefix) throws IOException {
        long t0 = System.nanoTime();
        Files.createDirectories(outDir);
        String stamp = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String base = prefix + "-" + stamp;
        Path log = outDir.resolve(base + ".log");
        List<Object> entries = new ArrayList<>();
        Map<String, String> machine = machine();
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("benchmark", Report.META);
        Map<String, Object> mp = new LinkedHashMap<>(machine);
        mp.put("run", runName + " (JMH: 1 fork, warmup " + s.warmups + " x " + s.warmupTime.toMillis()
                + " ms, measurement " + s.measurements + " x " + s.measurementTime.toMillis()
                + " ms; errors are JMH's 99.9% intervals)");
        if (!properties.isEmpty()) mp.put("properties", String.join(" ", properties));
        String engine = defaultEngine();
        if (engine != null) mp.put("defaultEngine", engine);
        meta.put("params", mp);
        entries.add(meta);
        // JMH's first use of sun.misc.Unsafe prints a JDK warning on stderr: have it now, not mid-line.
        org.openjdk.jmh.util.Utils.getOffset(WarnEarly.class, "x");
        OUT.printf(Locale.ROOT, "Running %d cases (%s). JMH's own output goes to %s%n", cases.size(), runName, log);
        CReference c = null;
        try (PrintStream jmhLog = new PrintStream(new FileOutputStream(log.toFile(), true), true, StandardCharsets.UTF_8)) {
            for (int i = 0; i < cases.size(); ) {
                Case k = cases.get(i);
                if (k.kind == Kind.MANY) {
                    // The peers of one client count, measured round-robin: see manyRounds.
                    int end = i;
                    while (end < cases.size() && cases.get(end).kind == Kind.MANY && cases.get(end).size == k.size) end++;
                    entries.addAll(manyRounds(cases.subList(i, end), i, cases.size(), s, jmhLog));
                    i = end;
                    continue;
                }
                i++;
                if ((k.kind == Kind.C_ROUND_TRIP || k.kind == Kind.C_STREAM) && c == null) c = new CReference();
                CReference cref = c;
                entries.add(measure(i, cases.size(), k.id(), k, () -> switch (k.kind) {
                    case ROUND_TRIP, STREAM, CONNECT -> jmh(k, s, jmhLog);
                    case C_ROUND_TRIP, C_STREAM -> cRun(cref, k, s);
                    case MANY -> throw new AssertionError("measured in rounds above");
                    case IDLE -> idle(k, s, jmhLog);
                }));
            }
        } finally {
            if (c != null) c.cleanup();
        }
        Path json = outDir.resolve(base + ".json");
        Files.writeString(json, Json.write(entries), StandardCharsets.UTF_8);
        Report r = Report.fromJson(Files.readString(json));
        String title = "Panapipe IPC comparison (" + runName + ")";
        List<Path> files = r.write(outDir, base, title);
        OUT.println();
        OUT.println(r.markdown(title));
        OUT.printf(Locale.ROOT, "Wrote %s, %s and %s (JMH log: %s). Total time %.1f s.%n",
                json, files.get(0), files.get(1), log, (System.nanoTime() - t0) / 1e9);
    }

    // ---- JMH cases ----

    /** The JMH options of one case: one fork with {@link #jvmArgs}, GC and CPU-time profilers. */
    static Options jmhOptions(Case k, Settings s) {
        boolean rt = k.kind != Kind.STREAM; // round trips and connections: allocation per operation too
        String bench = benchmarkName(k);
        ChainedOptionsBuilder ob = new OptionsBuilder()
                .include("^" + Pattern.quote(bench) + "$")
                .param("peer", k.peer)
                .param("size", Integer.toString(k.size))
                .param("threads", k.threads)
                .forks(1)
                .warmupIterations(s.warmups)
                .warmupTime(TimeValue.milliseconds(s.warmupTime.toMillis()))
                .measurementIterations(s.measurements)
                .measurementTime(TimeValue.milliseconds(s.measurementTime.toMillis()))
                .jvmArgsAppend(jvmArgs(k.peer))
                .timeout(TimeValue.seconds(40))
                .shouldFailOnError(true);
        if (rt) ob.addProfiler(GCProfiler.class);
        ob.addProfiler(CpuTimeProfiler.class);
        return ob.build();
    }

    private static Map<String, Object> jmh(Case k, Settings s, PrintStream log) throws Exception {
        log.println("==== " + k.id() + " ====");
        Runner runner = new Runner(jmhOptions(k, s), OutputFormatFactory.createFormatInstance(log, VerboseMode.NORMAL));
        CompletableFuture<Collection<RunResult>> f = new CompletableFuture<>();
        Thread worker = Thread.ofPlatform().daemon().name("jmh").start(() -> {
            try {
                f.complete(runner.run());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        Collection<RunResult> res;
        long limit = Long.getLong("panapipe.bench.caseLimitSeconds", s.caseLimit.toSeconds());
        try {
            res = f.get(limit, TimeUnit.SECONDS);
        } catch (TimeoutException te) {
            killChildren();
            worker.join(Duration.ofSeconds(10));
            return unavailable(k, "did not finish within " + limit + " s (fork killed)");
        } catch (java.util.concurrent.ExecutionException ee) {
            return unavailable(k, "JMH failed: " + oneLine(String.valueOf(ee.getCause())) + " (see log)");
        }
        if (res == null || res.isEmpty()) return unavailable(k, "no result (the benchmark failed; see the JMH log)");
        RunResult rr = res.iterator().next();
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("jmhVersion", "1.37");
        e.put("benchmark", rr.getParams().getBenchmark());
        e.put("mode", rr.getParams().getMode().shortLabel());
        e.put("jdkVersion", rr.getParams().getJdkVersion());
        e.put("vmName", rr.getParams().getVmName());
        e.put("vmVersion", rr.getParams().getVmVersion());
        e.put("params", Map.of("peer", k.peer, "size", Integer.toString(k.size), "threads", k.threads));
        e.put("primaryMetric", metric(rr.getPrimaryResult()));
        Map<String, Object> sec = new LinkedHashMap<>();
        rr.getSecondaryResults().forEach((key, value) -> sec.put(key, metric(value)));
        e.put("secondaryMetrics", sec);
        return e;
    }

    /**
     * The extra arguments of a fork or child JVM that measures {@code peer}: native access, the
     * {@code -D} properties given to this run, and a Panapipe peer's engine (one engine per JVM; last, so it wins).
     */
    static String[] jvmArgs(String peer) {
        List<String> l = new ArrayList<>();
        l.add("--enable-native-access=ALL-UNNAMED");
        l.addAll(properties);
        l.addAll(Peers.jvmArgs(peer));
        return l.toArray(String[]::new);
    }

    /** The engine a JVM with this run's properties picks on its own (asked of a child JVM), or null. */
    static String defaultEngine() {
        List<String> cmd = childJava(Peers.class.getName(), Peers.JDK);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            StringBuilder out = new StringBuilder();
            String line = ManyConnections.awaitLine(p, "ENGINE ", System.nanoTime() + TimeUnit.SECONDS.toNanos(20), out);
            if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly();
            if (line == null) return null;
            String e = line.substring(7).trim();
            return e.isEmpty() || e.startsWith("?") ? null : e;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    private static Map<String, Object> metric(Result<?> r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("score", r.getScore());
        m.put("scoreError", r.getScoreError());
        m.put("scoreUnit", r.getScoreUnit());
        return m;
    }

    /** Ends the child processes this JVM started (JMH forks, harness JVMs), by their ids. */
    private static void killChildren() {
        ProcessHandle.current().children().forEach(ph -> {
            ph.descendants().forEach(ProcessHandle::destroyForcibly);
            ph.destroyForcibly();
        });
    }

    private static Map<String, Object> unavailable(Case k, String why) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("benchmark", benchmarkName(k));
        e.put("params", params(k));
        e.put("unavailable", why);
        return e;
    }

    private static String benchmarkName(Case k) {
        return switch (k.kind) {
            case ROUND_TRIP, C_ROUND_TRIP -> RoundTripBench.class.getName() + ".roundTrip";
            case STREAM, C_STREAM -> StreamBench.class.getName() + ".write";
            case MANY -> Report.MANY;
            case IDLE -> Report.IDLE;
            case CONNECT -> ConnectBench.class.getName() + ".connectEchoClose";
        };
    }

    private static Map<String, Object> params(Case k) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("peer", k.peer);
        if (k.kind == Kind.MANY || k.kind == Kind.IDLE) p.put("connections", Integer.toString(k.size));
        else p.put("size", Integer.toString(k.size));
        p.put("threads", k.kind == Kind.C_ROUND_TRIP || k.kind == Kind.C_STREAM ? "process"
                : k.kind == Kind.MANY || k.kind == Kind.IDLE ? "virtual" : k.threads);
        return p;
    }

    // ---- C reference ----

    private static Map<String, Object> cRun(CReference c, Case k, Settings s) {
        CReference.Result r;
        if (k.kind == Kind.C_ROUND_TRIP) {
            // About a second per run at the sizes here (14-40 µs per round trip); the spinning one stops
            // after CReference.SPIN_MAX_SECONDS too.
            long iters = k.size >= 65536 ? 20_000 : 60_000;
            r = k.peer.equals(Peers.C_SPIN) ? c.spin(k.size, s.quick ? iters / 2 : iters, s.quick ? 3 : 5)
                    : c.pingpong(k.size, s.quick ? iters / 2 : iters, s.quick ? 3 : 5);
        } else {
            long mib = Math.max(256, Math.min(4096, k.size / 16));
            r = c.stream(k.size, s.quick ? mib / 2 : mib, s.quick ? 3 : 5);
        }
        if (!r.available()) return unavailable(k, r.unavailable());
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("benchmark", benchmarkName(k));
        e.put("mode", "external");
        e.put("params", params(k));
        e.put("primaryMetric", Map.of("score", r.score(), "scoreError", r.error(), "scoreUnit", r.unit()));
        if (!Double.isNaN(r.cpuPerOp())) {
            e.put("secondaryMetrics", Map.of(CpuTimeProfiler.METRIC,
                    Map.of("score", r.cpuPerOp(), "scoreError", Double.NaN, "scoreUnit", "us/op")));
        }
        return e;
    }

    // ---- harness cases, each in its own JVM ----

    /** The command of a harness child JVM: this JVM's java, {@link #jvmArgs} (the run's {@code -D}s, the peer's engine), this class path. */
    static List<String> childJava(String mainClass, String peer) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmArgs(peer)));
        cmd.add("-Xmx1g");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        return cmd;
    }

    /** One measurement of a case. */
    private interface Measurement {
        Map<String, Object> run() throws Exception;
    }

    /**
     * Runs one measurement of {@code k} between its progress line ("[i/of] label") and its summary
     * with the time it took; a failure becomes the case's "not available" entry.
     */
    private static Map<String, Object> measure(int i, int of, String label, Case k, Measurement m) {
        OUT.printf(Locale.ROOT, "[%d/%d] %-40s ", i, of, label);
        OUT.flush();
        long c0 = System.nanoTime();
        Map<String, Object> e;
        try {
            e = m.run();
        } catch (Exception ex) {
            e = unavailable(k, "failed: " + oneLine(ex.toString()));
        }
        OUT.printf(Locale.ROOT, "%s  (%.1f s)%n", summary(e), (System.nanoTime() - c0) / 1e9);
        OUT.flush();
        return e;
    }

    /**
     * Runs the many/ cases of one client count ({@code group}, one per peer) {@link Settings#manyRounds}
     * times (or {@code -Dpanapipe.bench.manyRounds=N}), the peers taking turns and each round starting
     * with the next peer (A B C, B C A, C A B, ...), each run a fresh pair of JVMs, and keeps for each
     * peer its median round (by requests/s, with that round's CPU and latencies), the other rounds
     * listed beside it ({@link #combineRounds}). On a shared machine one pair of JVMs moves by ±10 %
     * from run to run, for every peer alike; interleaving spreads a slow spell over all peers, the
     * rotation keeps any peer from always following the same one, and the median is not one lucky or
     * unlucky JVM. The report also compares the peers round by round ({@link Report#pairedRatio}).
     *
     * @param before how many cases of the run came before the group (for the progress lines)
     */
    private static List<Map<String, Object>> manyRounds(List<Case> group, int before, int total, Settings s,
                                                        PrintStream log) {
        List<List<Map<String, Object>>> rounds = new ArrayList<>();
        for (Case ignored : group) rounds.add(new ArrayList<>());
        int count = Math.max(1, Integer.getInteger("panapipe.bench.manyRounds", s.manyRounds));
        for (int round = 1; round <= count; round++) {
            for (int step = 0; step < group.size(); step++) {
                int j = turn(step, round, group.size());
                Case k = group.get(j);
                String label = k.id() + (count > 1 ? " (round " + round + "/" + count + ")" : "");
                rounds.get(j).add(measure(before + j + 1, total, label, k, () -> many(k, s, log)));
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (List<Map<String, Object>> r : rounds) out.add(combineRounds(r));
        return out;
    }

    /** Which of {@code peers} peers runs at {@code step} (from 0) of {@code round} (from 1): each round starts with the next peer. */
    static int turn(int step, int round, int peers) {
        return (step + round - 1) % peers;
    }

    /**
     * One peer's many/ rounds as one entry: the median round by requests/s (the lower middle for an
     * even count), with fields {@code rounds} (how many were run), {@code roundsRps} and
     * {@code roundsCpu} (every available round, in run order, "/"-separated) and a note if some
     * round failed. If none is available, the first round's entry says why.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> combineRounds(List<Map<String, Object>> rounds) {
        List<Map<String, Object>> ok = rounds.stream().filter(e -> e.get("unavailable") == null).toList();
        if (ok.isEmpty()) return rounds.get(0);
        List<Map<String, Object>> byRps = new ArrayList<>(ok);
        byRps.sort(Comparator.comparingDouble(Main::score));
        Map<String, Object> median = new LinkedHashMap<>(byRps.get((byRps.size() - 1) / 2));
        Map<String, Object> f = new LinkedHashMap<>((Map<String, Object>) median.get("fields"));
        f.put("rounds", Integer.toString(rounds.size()));
        f.put("roundsRps", String.join("/", ok.stream().map(e -> String.format(Locale.ROOT, "%.0f", score(e))).toList()));
        f.put("roundsCpu", String.join("/", ok.stream().map(e -> String.valueOf(
                ((Map<String, Object>) e.get("fields")).getOrDefault("cpuUsPerReq", "?"))).toList()));
        if (ok.size() < rounds.size()) {
            String failed = (rounds.size() - ok.size()) + " of " + rounds.size() + " rounds failed: "
                    + rounds.stream().filter(e -> e.get("unavailable") != null).findFirst().orElseThrow().get("unavailable");
            Object note = f.get("note");
            f.put("note", note == null || note.toString().isEmpty() ? failed : note + "; " + failed);
        }
        median.put("fields", f);
        return median;
    }

    @SuppressWarnings("unchecked")
    private static double score(Map<String, Object> e) {
        return Json.num(((Map<String, Object>) e.get("primaryMetric")).get("score"));
    }

    static Map<String, Object> many(Case k, Settings s, PrintStream log) throws Exception {
        Path dir = Files.createTempDirectory("ppb-many");
        Path sock = dir.resolve("s.sock");
        Process server = null;
        Process client = null;
        try {
            List<String> sc = childJava(ManyConnections.class.getName(), k.peer);
            sc.addAll(List.of("server", k.peer, sock.toString(), Long.toString(ManyConnections.WARMUP_SECONDS + ManyConnections.CONNECT_PHASE_SECONDS + s.manySeconds + 60)));
            server = new ProcessBuilder(sc).redirectErrorStream(true).start();
            StringBuilder slog = new StringBuilder();
            String ready = ManyConnections.awaitLine(server, "READY", System.nanoTime() + TimeUnit.SECONDS.toNanos(20), slog);
            if (ready == null) return unavailable(k, "server did not start: " + oneLine(slog.toString()));
            List<String> cc = childJava(ManyConnections.class.getName(), k.peer);
            cc.addAll(List.of("client", k.peer, sock.toString(), Integer.toString(k.size), Integer.toString(s.manySeconds)));
            client = new ProcessBuilder(cc).redirectErrorStream(true).start();
            StringBuilder clog = new StringBuilder();
            long limit = ManyConnections.WARMUP_SECONDS + 1 + ManyConnections.CONNECT_PHASE_SECONDS + 5 + s.manySeconds + 5 + 20;
            ProcessHandle sh = server.toHandle();
            long[] serverCpu0 = {-1};
            String line = ManyConnections.awaitLine(client, "RESULT", System.nanoTime() + TimeUnit.SECONDS.toNanos(limit), clog,
                    l -> {
                        if (l.equals("GO")) serverCpu0[0] = cpuNanos(sh);
                    });
            long serverCpu1 = cpuNanos(sh);
            log.println("==== " + k.id() + " ====\n" + clog + slog);
            if (line == null) return unavailable(k, "client did not report within " + limit + " s");
            Map<String, String> f = fields(line);
            if (f.containsKey("error")) return unavailable(k, f.get("error"));
            int n = Integer.parseInt(f.get("n"));
            int connected = Integer.parseInt(f.get("connected"));
            int finished = Integer.parseInt(f.get("finished"));
            List<String> notes = new ArrayList<>();
            if (connected < n) notes.add("only " + connected + " of " + n + " connected within " + ManyConnections.CONNECT_PHASE_SECONDS + " s");
            int warmedUp = Integer.parseInt(f.get("warmup"));
            if (warmedUp < ManyConnections.WARMUP_CONNECTIONS) {
                notes.add("warm-up: only " + warmedUp + " of " + ManyConnections.WARMUP_CONNECTIONS + " connections within "
                        + ManyConnections.WARMUP_SECONDS + " s");
            }
            int served = Integer.parseInt(f.get("served"));
            if (served < connected) notes.add("only " + served + " of " + connected + " clients got any answer");
            if (finished < n) notes.add((n - finished) + " clients still blocked at the end (stalled)");
            if (!"0".equals(f.get("ioErrors"))) notes.add(f.get("ioErrors") + " I/O errors");
            if (!"0".equals(f.get("connectErrors"))) notes.add(f.get("connectErrors") + " connect retries");
            f.put("note", String.join("; ", notes));
            cpuPerRequest(f, serverCpu0[0], serverCpu1);
            return harnessEntry(k, Json.num(f.get("rps")), "req/s", f);
        } finally {
            for (Process p : new Process[] {client, server}) {
                if (p == null) continue;
                try {
                    p.getOutputStream().close(); // the server's signal to stop
                } catch (IOException ignored) {
                    // gone already
                }
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            }
            Link.deleteTree(dir);
        }
    }

    /** A process's CPU time so far (all its threads), or -1 if the OS does not say. */
    static long cpuNanos(ProcessHandle h) {
        return h.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }

    /**
     * Adds CPU µs per request to a many/ result: the client JVM's own figure ({@code clientCpuMs}) and
     * the server JVM's CPU time between the client's GO and its RESULT, each divided by the requests.
     */
    static void cpuPerRequest(Map<String, String> f, long serverCpu0, long serverCpu1) {
        double requests = Json.num(f.get("requests"));
        double client = Json.num(f.get("clientCpuMs")) * 1e3;
        if (!(requests > 0) || Double.isNaN(client)) return;
        f.put("clientCpuUsPerReq", String.format(Locale.ROOT, "%.2f", client / requests));
        if (serverCpu0 < 0 || serverCpu1 < serverCpu0) return;
        double server = (serverCpu1 - serverCpu0) / 1e3;
        f.put("serverCpuUsPerReq", String.format(Locale.ROOT, "%.2f", server / requests));
        f.put("cpuUsPerReq", String.format(Locale.ROOT, "%.2f", (client + server) / requests));
    }

    /**
     * idle/N: a server JVM and a client JVM ({@link IdleHarness}), N idle connections between them, a
     * virtual-thread reader blocked on the server's end of each. Each process's CPU time over the idle
     * window is sampled from here; resident memory per connection is each process's own growth ÷ N.
     */
    static Map<String, Object> idle(Case k, Settings s, PrintStream log) throws Exception {
        Path dir = Files.createTempDirectory("ppb-idle");
        Path sock = dir.resolve("s.sock");
        int rounds = IdleHarness.ROUNDS;
        long wakeSeconds = (long) Math.ceil(rounds * (s.wakeTimeout + 0.2)) + 10;
        long life = 20 + IdleHarness.CONNECT_PHASE_SECONDS + 30 + (long) Math.ceil(s.idleSeconds) + wakeSeconds + 30;
        List<String> args = List.of(k.peer, sock.toString(), Integer.toString(k.size), Long.toString(life));
        ChildJvm server = null;
        ChildJvm client = null;
        try {
            List<String> sc = childJava(IdleHarness.class.getName(), k.peer);
            sc.add("server");
            sc.addAll(args);
            server = ChildJvm.start("server", sc);
            String ready = server.await("READY", deadline(20));
            if (ready == null || ready.startsWith(ChildJvm.ERROR)) return unavailable(k, failure(server, ready, "did not start"));
            List<String> cc = childJava(IdleHarness.class.getName(), k.peer);
            cc.add("client");
            cc.addAll(args);
            client = ChildJvm.start("client", cc);
            String cs = client.await("SETTLED", deadline(20 + IdleHarness.CONNECT_PHASE_SECONDS + IdleHarness.SETTLE_SECONDS + 10));
            if (cs == null || cs.startsWith(ChildJvm.ERROR)) return unavailable(k, failure(client, cs, "did not connect and settle"));
            Map<String, String> c = fields(cs.substring("SETTLED".length()));
            server.send("SETTLE " + c.get("connected"));
            String ss = server.await("SETTLED", deadline(IdleHarness.SETTLE_SECONDS + 10));
            if (ss == null || ss.startsWith(ChildJvm.ERROR)) return unavailable(k, failure(server, ss, "did not settle"));
            Map<String, String> sv = fields(ss.substring("SETTLED".length()));

            long sCpu0 = server.cpuNanos();
            long cCpu0 = client.cpuNanos();
            long w0 = System.nanoTime();
            Thread.sleep((long) (s.idleSeconds * 1000));
            long sCpu1 = server.cpuNanos();
            long cCpu1 = client.cpuNanos();
            long w1 = System.nanoTime();

            client.send("WAKE " + rounds + " " + s.wakeTimeout);
            String wl = client.await("WOKE", deadline(wakeSeconds));
            if (wl == null || wl.startsWith(ChildJvm.ERROR)) return unavailable(k, failure(client, wl, "did not finish the wake-up check"));
            Map<String, String> wf = fields(wl.substring("WOKE".length()));
            server.send("REPORT");
            String rl = server.await("REPORT", deadline(10));
            Map<String, String> rf = rl == null || rl.startsWith(ChildJvm.ERROR) ? Map.of() : fields(rl.substring("REPORT".length()));

            int n = k.size;
            Map<String, String> f = new LinkedHashMap<>();
            f.put("n", Integer.toString(n));
            f.put("connected", c.get("connected"));
            f.put("accepted", sv.get("accepted"));
            f.put("readersStarted", sv.get("readersStarted"));
            f.put("carriers", sv.get("carriers"));
            f.put("idleSeconds", String.format(Locale.ROOT, "%.2f", (w1 - w0) / 1e9));
            String serverPct = cpuPct(sCpu0, sCpu1, w1 - w0);
            f.put("cpuPct", serverPct);
            f.put("serverCpuPct", serverPct);
            f.put("clientCpuPct", cpuPct(cCpu0, cCpu1, w1 - w0));
            f.put("woke", wf.get("woke"));
            f.put("wakes", wf.get("wakes"));
            f.put("wakeMedianUs", wf.get("wakeMedianUs"));
            f.put("wakeMaxUs", wf.get("wakeMaxUs"));
            f.put("wakeWarmup", wf.getOrDefault("warmup", "0"));
            f.put("serverEchoes", rf.getOrDefault("echoed", "?"));
            long sRss = perConnection(sv, n);
            long cRss = perConnection(c, n);
            f.put("serverRssPerConnBytes", Long.toString(sRss));
            f.put("clientRssPerConnBytes", Long.toString(cRss));
            f.put("rssPerConnBytes", Long.toString(sRss < 0 || cRss < 0 ? -1 : sRss + cRss));
            f.put("serverFds", sv.get("fds"));
            f.put("clientFds", c.get("fds"));
            List<String> notes = new ArrayList<>();
            if (!wf.getOrDefault("note", "").isEmpty()) notes.add(wf.get("note").replace('_', ' '));
            if (!c.get("connected").equals(Integer.toString(n))) {
                notes.add("only " + c.get("connected") + " of " + n + " connected within " + IdleHarness.CONNECT_PHASE_SECONDS + " s");
            }
            if (!"0".equals(c.get("connectErrors"))) notes.add(c.get("connectErrors") + " connect retries");
            if (!sv.get("accepted").equals(c.get("connected"))) {
                notes.add("the server accepted " + sv.get("accepted") + " of " + c.get("connected"));
            }
            if (!sv.get("readersStarted").equals(sv.get("accepted"))) {
                notes.add("only " + sv.get("readersStarted") + " of " + sv.get("accepted") + " readers got to run");
            }
            f.put("note", String.join("; ", notes));
            return harnessEntry(k, Json.num(serverPct), "% of one core", f);
        } finally {
            StringBuilder b = new StringBuilder("==== " + k.id() + " ====\n");
            for (ChildJvm p : new ChildJvm[] {client, server}) {
                if (p == null) continue;
                p.close();
                b.append(p.log());
            }
            log.println(b);
            Link.deleteTree(dir);
        }
    }

    private static long deadline(long seconds) {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    }

    /** Why a harness child gave no answer: its ERROR line, or what it did not do (its last line beside). */
    private static String failure(ChildJvm p, String line, String didNot) {
        if (line != null) return p.name + ": " + line.substring(ChildJvm.ERROR.length()).trim();
        String[] lines = p.log().split("\n");
        return p.name + " " + didNot + " in time" + (lines.length == 0 || lines[lines.length - 1].isEmpty() ? ""
                : " (last output: " + oneLine(lines[lines.length - 1]) + ")");
    }

    /** CPU time between two samples as % of one core over {@code wallNanos}, or NaN if the OS gave none. */
    static String cpuPct(long cpu0, long cpu1, long wallNanos) {
        if (cpu0 < 0 || cpu1 < cpu0 || wallNanos <= 0) return "NaN";
        return String.format(Locale.ROOT, "%.2f", 100.0 * (cpu1 - cpu0) / wallNanos);
    }

    /** A harness process's resident-set growth from {@code rss0} to {@code rss1}, ÷ n; -1 if unknown. */
    static long perConnection(Map<String, String> f, int n) {
        try {
            long rss0 = Long.parseLong(f.get("rss0"));
            long rss1 = Long.parseLong(f.get("rss1"));
            return rss0 < 0 || rss1 < 0 || n <= 0 ? -1 : (rss1 - rss0) / n;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static Map<String, Object> harnessEntry(Case k, double score, String unit, Map<String, String> f) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("benchmark", benchmarkName(k));
        e.put("mode", "harness");
        e.put("params", params(k));
        e.put("primaryMetric", Map.of("score", score, "scoreError", Double.NaN, "scoreUnit", unit));
        e.put("fields", new LinkedHashMap<String, Object>(f));
        return e;
    }

    /** Parses "RESULT a=1 b=x ..." into a map. */
    static Map<String, String> fields(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        String rest = line.startsWith("RESULT") ? line.substring(6).trim() : line.trim();
        if (rest.startsWith("error=")) {
            m.put("error", rest.substring(6));
            return m;
        }
        for (String kv : rest.split("\\s+")) {
            int eq = kv.indexOf('=');
            if (eq > 0) m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }

    /** A one-line summary of an entry for the progress line. */
    @SuppressWarnings("unchecked")
    static String summary(Map<String, Object> e) {
        if (e.get("unavailable") != null) return "not available: " + e.get("unavailable");
        Map<String, Object> pm = (Map<String, Object>) e.get("primaryMetric");
        double score = Json.num(pm.get("score"));
        String unit = String.valueOf(pm.get("scoreUnit"));
        StringBuilder b = new StringBuilder();
        Map<String, Object> params = (Map<String, Object>) e.get("params");
        if (unit.equals("ops/s") && params.get("size") != null) {
            double mib = score * Json.num(params.get("size")) / 1048576.0;
            b.append(Report.fmt(mib)).append(" MiB/s");
        } else {
            b.append(Report.fmt(score)).append(' ').append(unit);
        }
        double err = Json.num(pm.get("scoreError"));
        if (!Double.isNaN(err) && !unit.equals("ops/s")) b.append(" ± ").append(Report.fmt(err));
        if (e.get("secondaryMetrics") instanceof Map<?, ?> sec) {
            if (sec.get(CpuTimeProfiler.METRIC) instanceof Map<?, ?> c) {
                double f = "ns/op".equals(c.get("scoreUnit")) ? 1e-3 : 1.0;
                b.append(", CPU ").append(Report.fmt(Json.num(c.get("score")) * f)).append(" µs/op");
            }
            if (sec.get("gc.alloc.rate.norm") instanceof Map<?, ?> g) {
                b.append(", alloc ").append(Report.fmt(Json.num(g.get("score")))).append(" B/op");
            }
        }
        if (e.get("fields") instanceof Map<?, ?> f) {
            if (f.containsKey("cpuUsPerReq")) b.append(", CPU ").append(f.get("cpuUsPerReq")).append(" µs/req");
            if (f.containsKey("p99us")) b.append(", p50 ").append(f.get("p50us")).append(" µs, p99 ").append(f.get("p99us")).append(" µs");
            if (f.containsKey("clientCpuPct")) b.append(" (server), client ").append(f.get("clientCpuPct")).append(" %");
            if (f.containsKey("woke")) b.append(", woke ").append(f.get("wakes")).append(", wake median ").append(f.get("wakeMedianUs")).append(" µs");
            if (f.containsKey("serverRssPerConnBytes")) {
                b.append(", RSS/conn server ").append(Report.bytes(String.valueOf(f.get("serverRssPerConnBytes"))))
                        .append(" + client ").append(Report.bytes(String.valueOf(f.get("clientRssPerConnBytes"))));
            }
            if (f.get("note") != null && !String.valueOf(f.get("note")).isEmpty()) b.append(" [").append(f.get("note")).append(']');
        }
        return b.toString();
    }

    // ---- machine facts, paths ----

    static Map<String, String> machine() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        String cpu = System.getProperty("os.arch");
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: keep os.arch
        }
        m.put("cpu", cpu);
        m.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("jdk", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"));
        m.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        return m;
    }

    /** The repository root: the nearest ancestor of this code (or of the working directory) holding bench/pom.xml. */
    static Path repoRoot() {
        List<Path> starts = new ArrayList<>();
        try {
            starts.add(Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (Exception ignored) {
            // no code source
        }
        starts.add(Path.of(System.getProperty("user.dir")));
        for (Path s : starts) {
            for (Path p = s.toAbsolutePath(); p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("bench/pom.xml")) && Files.isRegularFile(p.resolve("pom.xml"))) return p;
            }
        }
        return Path.of(System.getProperty("user.dir")).toAbsolutePath();
    }

    static String oneLine(String s) {
        String t = s.replaceAll("\\s+", " ").trim();
        return t.length() > 300 ? t.substring(0, 300) + "…" : t;
    }
}

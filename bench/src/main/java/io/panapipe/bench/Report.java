package io.panapipe.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a JMH JSON result ({@code -rf json}, or the merged file {@link Main} writes, which adds
 * the C reference, the harness results and a {@code panapipe.meta} entry in the same shape) into
 * a Markdown table and a hand-written SVG chart.
 */
public final class Report {
    static final String ROUND_TRIP = "RoundTripBench.roundTrip";
    static final String STREAM = "StreamBench.write";
    static final String MANY = "harness.ManyConnections";
    static final String IDLE = "harness.Idle";
    static final String CONNECT = "ConnectBench.connectEchoClose";
    static final String META = "panapipe.meta";

    /**
     * One result row, normalised: round trip in µs/op, streaming in MiB/s; {@code cpuPerOp} is CPU µs
     * per operation (round trip, write, or request of many/), NaN where unknown.
     */
    public record Row(String kind, String peer, String threads, int size, double value, double error,
                      double allocPerOp, double cpuPerOp, String unavailable, Map<String, String> fields) {
        boolean available() { return unavailable == null && !Double.isNaN(value); }
        String label() { return threads.isEmpty() ? peer : peer + " (" + threads + ")"; }
    }

    private final List<Row> rows = new ArrayList<>();
    private final Map<String, String> meta = new LinkedHashMap<>();

    /** Parses the JSON text (an array of JMH-shaped entries). */
    @SuppressWarnings("unchecked")
    public static Report fromJson(String json) {
        Report r = new Report();
        for (Object o : (List<Object>) Json.parse(json)) {
            Map<String, Object> e = (Map<String, Object>) o;
            String bench = String.valueOf(e.get("benchmark"));
            Map<String, Object> params = (Map<String, Object>) e.getOrDefault("params", Map.of());
            if (bench.equals(META)) {
                params.forEach((k, v) -> r.meta.put(k, String.valueOf(v)));
                continue;
            }
            if (!r.meta.containsKey("jdk") && e.get("jdkVersion") != null) {
                r.meta.put("jdk", e.get("jdkVersion") + " (" + e.get("vmName") + " " + e.get("vmVersion") + ")");
            }
            String kind = bench.endsWith(ROUND_TRIP) ? ROUND_TRIP : bench.endsWith(STREAM) ? STREAM
                    : bench.endsWith(CONNECT) ? CONNECT : bench.equals(MANY) ? MANY : bench.equals(IDLE) ? IDLE : null;
            if (kind == null) continue;
            String peer = String.valueOf(params.getOrDefault("peer", "?"));
            String threads = String.valueOf(params.getOrDefault("threads", ""));
            int size = (int) Json.num(params.getOrDefault("size", params.getOrDefault("connections", 0.0)));
            String unavailable = (String) e.get("unavailable");
            double value = Double.NaN;
            double error = Double.NaN;
            double alloc = Double.NaN;
            double cpu = Double.NaN;
            Map<String, Object> pm = (Map<String, Object>) e.get("primaryMetric");
            if (pm != null) {
                value = Json.num(pm.get("score"));
                error = Json.num(pm.get("scoreError"));
                String unit = String.valueOf(pm.get("scoreUnit"));
                double f = scale(kind, unit, size);
                value *= f;
                error *= f;
            }
            Map<String, Object> sec = (Map<String, Object>) e.get("secondaryMetrics");
            if (sec != null && sec.get("gc.alloc.rate.norm") instanceof Map<?, ?> g) {
                alloc = Json.num(g.get("score"));
            }
            if (sec != null && sec.get(CpuTimeProfiler.METRIC) instanceof Map<?, ?> c) {
                cpu = Json.num(c.get("score")) * scale(ROUND_TRIP, String.valueOf(c.get("scoreUnit")), size);
            }
            Map<String, String> fields = new LinkedHashMap<>();
            if (e.get("fields") instanceof Map<?, ?> fm) fm.forEach((k, v) -> fields.put(String.valueOf(k), String.valueOf(v)));
            if (kind.equals(MANY)) cpu = Json.num(fields.get("cpuUsPerReq"));
            r.rows.add(new Row(kind, peer, threads, size, value, error, alloc, cpu, unavailable, fields));
        }
        return r;
    }

    /** Factor from the entry's unit to the report's unit (µs/op for round trips, MiB/s for streams). */
    static double scale(String kind, String unit, int size) {
        if (kind.equals(ROUND_TRIP) || kind.equals(CONNECT)) {
            return switch (unit) {
                case "ns/op" -> 1e-3;
                case "ms/op" -> 1e3;
                case "s/op" -> 1e6;
                default -> 1.0; // us/op
            };
        }
        if (kind.equals(STREAM)) {
            return switch (unit) {
                case "ops/s" -> size / 1048576.0;
                case "ops/ms" -> size * 1e3 / 1048576.0;
                case "ops/us" -> size * 1e6 / 1048576.0;
                default -> 1.0; // MiB/s
            };
        }
        return 1.0;
    }

    public List<Row> rows() { return rows; }

    public Map<String, String> meta() { return meta; }

    /**
     * The Panapipe peer ratios are taken to: the default engine's peer of the run ({@code defaultEngine}
     * in its meta), else the first of {@link Peers#PANAPIPE}.
     */
    String reference() {
        return Peers.reference(meta.get("defaultEngine"));
    }

    /** The Panapipe row for the same case, if any: the {@link #reference()}'s, else the first other one present. */
    Row panapipeFor(Row r) {
        List<String> order = new ArrayList<>();
        order.add(reference());
        for (String p : Peers.PANAPIPE) if (!order.contains(p)) order.add(p);
        for (String p : order) {
            Row o = rowOf(p, r, false);
            if (o != null) return o;
        }
        return null;
    }

    /** The blocking C row for the same kind and size, if any. */
    Row cFor(Row r) {
        return rowOf(Peers.C, r, true);
    }

    /** The busy-polling C row for the same kind and size, if any. */
    Row cSpinFor(Row r) {
        return rowOf(Peers.C_SPIN, r, true);
    }

    /** The JDK's row for the same case, if any. */
    Row jdkFor(Row r) {
        return rowOf(Peers.JDK, r, false);
    }

    /**
     * The available row of {@code peer} for the case of {@code r}: same kind and size, and the same
     * thread kind unless {@code anyThreads} (the C rows are processes); null if there is none.
     */
    private Row rowOf(String peer, Row r, boolean anyThreads) {
        for (Row o : rows) {
            if (o.kind.equals(r.kind) && o.size == r.size && o.peer.equals(peer)
                    && (anyThreads || o.threads.equals(r.threads)) && o.available()) return o;
        }
        return null;
    }

    /** A byte count as "1.5 KiB", or "–" when missing or negative. */
    static String bytes(String value) {
        if (value == null) {
            return "–";
        }
        double v = Json.num(value);
        if (v < 0 || Double.isNaN(v)) {
            return "–";
        }
        return v < 1024 ? String.format(java.util.Locale.ROOT, "%.0f B", v)
                : String.format(java.util.Locale.ROOT, "%.1f KiB", v / 1024);
    }

    /** Every round of a many/ row: "req/s (CPU)" in run order, or "–" for a single-round result. */
    static String roundsCell(Map<String, String> f) {
        if (!f.containsKey("roundsRps")) return "–";
        String[] rps = f.get("roundsRps").split("/");
        String[] cpu = f.getOrDefault("roundsCpu", "").split("/");
        List<String> cells = new ArrayList<>();
        for (int i = 0; i < rps.length; i++) {
            String c = i < cpu.length ? cpu[i] : "?";
            cells.add(fmt(Json.num(rps[i])) + " (" + (c.equals("?") ? "?" : fmt(Json.num(c))) + ")");
        }
        return String.join(", ", cells);
    }

    /**
     * The many/ rows of {@code r} and {@code ref} compared round by round: the median of the ratios
     * of their requests/s in each round (the two ran minutes apart at most, in the same spell of a
     * shared machine), and the range, as "1.22x (1.13–1.25)". "–" for the reference itself, or when
     * either side lacks a complete set of rounds (a failed round leaves nothing to pair it with).
     */
    static String pairedRatio(Row r, Row ref) {
        double[] mine = completeRounds(r);
        double[] theirs = completeRounds(ref);
        if (r == ref || mine == null || theirs == null || mine.length != theirs.length || mine.length < 2) return "–";
        double[] q = new double[mine.length];
        for (int i = 0; i < q.length; i++) {
            if (theirs[i] <= 0) return "–";
            q[i] = mine[i] / theirs[i];
        }
        double[] sorted = q.clone();
        java.util.Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        return String.format(Locale.ROOT, "%.2fx (%.2f–%.2f)", median, sorted[0], sorted[sorted.length - 1]);
    }

    /** Every round's requests/s of a many/ row in run order, or null unless all its rounds are there. */
    private static double[] completeRounds(Row r) {
        if (r == null || !r.available()) return null;
        String rps = r.fields.get("roundsRps");
        String rounds = r.fields.get("rounds");
        if (rps == null || rounds == null) return null;
        String[] parts = rps.split("/");
        if (!rounds.equals(Integer.toString(parts.length))) return null;
        double[] v = new double[parts.length];
        for (int i = 0; i < parts.length; i++) v[i] = Json.num(parts[i]);
        return v;
    }

    /** "1.23x", or "n/a" when either side is missing. Ratio = this ÷ reference. */
    static String ratio(Row r, Row ref) {
        if (ref == null || !r.available() || ref.value == 0) return "n/a";
        return String.format(Locale.ROOT, "%.2fx", r.value / ref.value);
    }

    public static String sizeLabel(long bytes) {
        if (bytes >= 1048576 && bytes % 1048576 == 0) return bytes / 1048576 + " MiB";
        if (bytes >= 1024 && bytes % 1024 == 0) return bytes / 1024 + " KiB";
        return bytes + " B";
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "–";
        if (Math.abs(v) >= 1000) return String.format(Locale.ROOT, "%,.0f", v);
        if (Math.abs(v) >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (Math.abs(v) >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private Map<Integer, List<Row>> bySize(String kind) {
        Map<Integer, List<Row>> m = new TreeMap<>();
        for (Row r : rows) if (r.kind.equals(kind)) m.computeIfAbsent(r.size, k -> new ArrayList<>()).add(r);
        Comparator<Row> order = Comparator.comparingInt(Report::peerOrder).thenComparing(Row::threads);
        m.values().forEach(l -> l.sort(order));
        return m;
    }

    static int peerOrder(Row r) {
        if (Peers.PANAPIPE.contains(r.peer)) return Peers.PANAPIPE.indexOf(r.peer);
        if (r.peer.equals(Peers.C)) return 1000;
        if (r.peer.equals(Peers.C_SPIN)) return 1001;
        int i = Peers.javaPeers().indexOf(r.peer);
        return 10 + (i < 0 ? 500 : i);
    }

    /** The Markdown report. */
    public String markdown(String title) {
        StringBuilder b = new StringBuilder();
        b.append("# ").append(title).append("\n\n");
        b.append("- Machine: ").append(meta.getOrDefault("cores", "?")).append(" cores, ")
                .append(meta.getOrDefault("cpu", "?")).append(", kernel ").append(meta.getOrDefault("kernel", "?")).append('\n');
        b.append("- JDK: ").append(meta.getOrDefault("jdk", "?")).append('\n');
        b.append("- Date: ").append(meta.getOrDefault("date", "?")).append('\n');
        if (meta.containsKey("run")) b.append("- Run: ").append(meta.get("run")).append('\n');
        if (meta.containsKey("properties")) b.append("- System properties of every fork and child JVM: `")
                .append(meta.get("properties")).append("`\n");
        b.append("- Panapipe reference (\"vs Panapipe\"): ").append(reference())
                .append(meta.containsKey("defaultEngine") ? " (the default engine here: " + meta.get("defaultEngine") + ")" : "")
                .append('\n');
        b.append("- CPU: process CPU time (user + system, every thread of both ends) per operation: JMH forks hold both ends;"
                + " C rows add both processes; many/ adds the client and server JVMs\n");
        b.append('\n');

        Map<Integer, List<Row>> rt = bySize(ROUND_TRIP);
        for (var e : rt.entrySet()) {
            b.append("## Round trip, ").append(sizeLabel(e.getKey())).append(" (µs per round trip, lower is better)\n\n");
            b.append("Ratios are this row's time ÷ the reference's time (1.30x = 30% slower than the reference);"
                    + " C is blocking, C spin busy-polls.\n\n");
            b.append("| peer | threads | µs/op | ± | CPU µs/op | alloc B/op | vs Panapipe | vs C | vs C spin |\n"
                    + "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Row r : e.getValue()) {
                if (!r.available()) {
                    notAvailableRow(b, r, 7);
                    continue;
                }
                tableRow(b, r, fmt(r.value), fmt(r.error), fmt(r.cpuPerOp), fmt(r.allocPerOp),
                        ratio(r, panapipeFor(r)), ratio(r, cFor(r)), ratio(r, cSpinFor(r)));
            }
            b.append('\n');
        }
        Map<Integer, List<Row>> st = bySize(STREAM);
        for (var e : st.entrySet()) {
            b.append("## Streaming, ").append(sizeLabel(e.getKey())).append(" writes (MiB/s, higher is better)\n\n");
            b.append("Ratios are this row's throughput ÷ the reference's (0.90x = 10% less than the reference).\n\n");
            b.append("| peer | threads | MiB/s | ± | CPU µs/write | vs Panapipe | vs C |\n|---|---|---:|---:|---:|---:|---:|\n");
            for (Row r : e.getValue()) {
                if (!r.available()) {
                    notAvailableRow(b, r, 5);
                    continue;
                }
                tableRow(b, r, fmt(r.value), fmt(r.error), fmt(r.cpuPerOp), ratio(r, panapipeFor(r)), ratio(r, cFor(r)));
            }
            b.append('\n');
        }
        Map<Integer, List<Row>> conn = bySize(CONNECT);
        for (var e : conn.entrySet()) {
            b.append("## Connect, ").append(sizeLabel(e.getKey()))
                    .append(" echo, close (µs per connection, lower is better)\n\n");
            b.append("A client opens a connection, writes, reads the echo and closes; the server (same JVM, same"
                    + " kind of thread) accepts, echoes and closes each in turn. CPU and allocation per connection"
                    + " cover both ends.\n\n");
            b.append("| peer | threads | µs/op | ± | CPU µs/op | alloc B/op | vs Panapipe |\n|---|---|---:|---:|---:|---:|---:|\n");
            for (Row r : e.getValue()) {
                if (!r.available()) {
                    notAvailableRow(b, r, 5);
                    continue;
                }
                tableRow(b, r, fmt(r.value), fmt(r.error), fmt(r.cpuPerOp), fmt(r.allocPerOp), ratio(r, panapipeFor(r)));
            }
            b.append('\n');
        }
        List<Row> many = rows.stream().filter(r -> r.kind.equals(MANY)).sorted(
                Comparator.comparingInt(Row::size).thenComparingInt(Report::peerOrder)).toList();
        if (!many.isEmpty()) {
            b.append("## Many connections (virtual-thread clients, 64 B requests, one server with a virtual thread per connection)\n\n");
            b.append("CPU µs/req: the client and the server JVM's CPU time over the measured window ÷ requests"
                    + " (client + server).");
            if (many.stream().anyMatch(r -> r.fields.containsKey("rounds"))) {
                b.append(" Each peer ran in several rounds, the peers of a client count taking turns, each round a"
                        + " fresh pair of JVMs; a row is the peer's median round (its requests/s, CPU and latencies),"
                        + " the last column lists every round's requests/s (CPU µs/req) in run order. \"÷ JDK by round\":"
                        + " the median and the range of the ratios to the JDK's requests/s within each round (peers of a"
                        + " round ran back to back, so a slow spell of the machine weighs on both sides of a ratio).");
            }
            b.append("\n\n| peer | clients | connected | answered | requests/s | ÷ JDK | ÷ JDK by round | CPU µs/req | p50 µs | p99 µs | p99.9 µs | rounds | note |\n"
                    + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
            for (Row r : many) {
                Map<String, String> f = r.fields;
                String cpu = fmt(r.cpuPerOp) + (f.containsKey("serverCpuUsPerReq")
                        ? " (" + fmt(Json.num(f.get("clientCpuUsPerReq"))) + " + " + fmt(Json.num(f.get("serverCpuUsPerReq"))) + ")" : "");
                b.append("| ").append(r.peer).append(" | ").append(r.size).append(" | ")
                        .append(f.getOrDefault("connected", "–")).append(" | ").append(f.getOrDefault("served", "–"))
                        .append(" | ").append(fmt(r.value)).append(" | ").append(ratio(r, jdkFor(r)))
                        .append(" | ").append(pairedRatio(r, jdkFor(r))).append(" | ").append(cpu).append(" | ")
                        .append(fmt(Json.num(f.get("p50us")))).append(" | ").append(fmt(Json.num(f.get("p99us"))))
                        .append(" | ").append(fmt(Json.num(f.get("p999us")))).append(" | ").append(roundsCell(f)).append(" | ")
                        .append(mdCell(r.unavailable != null ? r.unavailable : f.getOrDefault("note", ""))).append(" |\n");
            }
            b.append('\n');
        }
        List<Row> idle = rows.stream().filter(r -> r.kind.equals(IDLE)).sorted(
                Comparator.comparingInt(Row::size).thenComparingInt(Report::peerOrder)).toList();
        if (!idle.isEmpty()) {
            b.append("## Idle connections (a virtual-thread reader blocked in read on each) and wake-up of idle readers\n\n");
            boolean twoJvms = idle.stream().anyMatch(r -> r.fields.containsKey("clientCpuPct"));
            String warmup = idle.stream().map(r -> r.fields.getOrDefault("wakeWarmup", "0")).filter(w -> !w.equals("0"))
                    .findFirst().orElse(null);
            b.append(twoJvms ? "Server and client are two JVMs: the readers are the server's, CPU and resident memory are each "
                    + "process's own, and a wake is a round trip from the client (one byte on an idle connection; its reader "
                    + "wakes and echoes it)" + (warmup == null ? "" : ", after " + fmt(Json.num(warmup))
                    + " warm-up round trips on the first connection (so that the request path runs compiled, as in a"
                    + " program that has been serving for a while)") + ".\n\n"
                    : "One JVM held both ends (results before 2026-12-03): one more reader on a new connection was woken.\n\n");
            b.append("| peer | idle connections | carriers | CPU while idle, server / client (% of one core) | idle readers woke? "
                    + "| wake µs (median / max) | RSS per connection, server + client (heap included) | note |\n");
            b.append("|---|---:|---:|---:|---|---:|---:|---|\n");
            for (Row r : idle) {
                Map<String, String> f = r.fields;
                String woke = r.unavailable != null ? "–" : "true".equals(f.get("woke")) ? "yes"
                        : "no (" + f.getOrDefault("wakes", "?") + " wakes)";
                String cpu = r.unavailable != null ? "–" : fmt(r.value)
                        + (f.containsKey("clientCpuPct") ? " / " + fmt(Json.num(f.get("clientCpuPct"))) : "");
                String rss = f.containsKey("serverRssPerConnBytes")
                        ? bytes(f.get("serverRssPerConnBytes")) + " + " + bytes(f.get("clientRssPerConnBytes"))
                                + " = " + bytes(f.get("rssPerConnBytes"))
                        : bytes(f.get("rssPerConnBytes")) + (f.containsKey("rssPerConnBytes") ? " (one JVM, both ends)" : "");
                b.append("| ").append(r.peer).append(" | ").append(r.size).append(" | ")
                        .append(f.getOrDefault("carriers", "–")).append(" | ").append(cpu).append(" | ")
                        .append(woke).append(" | ").append(fmt(Json.num(f.get("wakeMedianUs")))).append(" / ")
                        .append(fmt(Json.num(f.get("wakeMaxUs")))).append(" | ")
                        .append(rss).append(" | ")
                        .append(mdCell(r.unavailable != null ? r.unavailable : f.getOrDefault("note", "").replace('_', ' ')))
                        .append(" |\n");
            }
            b.append('\n');
        }
        return b.toString();
    }

    /**
     * The excerpt the top-level README quotes from a (full) run: 64 B round trip per peer on both thread
     * kinds with allocation and ratios to C, 64 KiB streaming with ratios to Panapipe and C, requests/s
     * per client count, and the idle results in one table; links to {@code mdFile} and {@code svgFile}.
     * Cases missing from the run are left out.
     */
    public String readmeSection(String mdFile, String svgFile) {
        StringBuilder b = new StringBuilder();
        b.append("<!-- generated by: ./run readme ").append(svgFile.replaceFirst("\\.svg$", ".json"))
                .append(" — do not edit by hand -->\n");
        b.append("Results of ").append(meta.getOrDefault("date", "?")).append(" on ")
                .append(meta.getOrDefault("cores", "?")).append(" cores (").append(meta.getOrDefault("cpu", "?"))
                .append("), ").append(meta.getOrDefault("jdk", "?")).append(": table [").append(mdFile)
                .append("](").append(mdFile).append("), chart [").append(svgFile).append("](").append(svgFile).append(").\n\n");
        b.append("![Panapipe IPC comparison](").append(svgFile).append(")\n\n");
        List<Row> rt = pick(ROUND_TRIP, 64);
        if (!rt.isEmpty()) {
            b.append("64 B round trip (µs, lower is better; ratio to the blocking C, same run; CPU: process CPU µs per round trip, both ends):\n\n");
            b.append("| peer | platform threads | virtual threads | CPU µs/op (platform / virtual) | alloc B/op (platform / virtual) |\n"
                    + "|---|---:|---:|---:|---:|\n");
            for (String peer : peersOf(rt)) {
                Row pl = find(rt, peer, "platform");
                Row vt = find(rt, peer, "virtual");
                Row proc = find(rt, peer, "process");
                if (proc != null) {
                    String kind = peer.equals(Peers.C_SPIN) ? " (two processes, busy-polling)" : " (two processes)";
                    b.append("| ").append(peer).append(kind).append(" | ").append(cell(proc, false)).append(" | – | ")
                            .append(cpu(proc)).append(" | – |\n");
                    continue;
                }
                b.append("| ").append(peer).append(" | ").append(cell(pl, true)).append(" | ").append(cell(vt, true))
                        .append(" | ").append(cpu(pl)).append(" / ").append(cpu(vt))
                        .append(" | ").append(alloc(pl)).append(" / ").append(alloc(vt)).append(" |\n");
            }
            b.append('\n');
        }
        List<Row> st = pick(STREAM, 65536);
        if (!st.isEmpty()) {
            b.append("64 KiB streaming writes (MiB/s, higher is better; ratios to ").append(reference()).append(" and to C):\n\n");
            b.append("| peer | platform threads | virtual threads |\n|---|---:|---:|\n");
            for (String peer : peersOf(st)) {
                Row proc = find(st, peer, "process");
                if (proc != null) {
                    b.append("| ").append(peer).append(" (two processes) | ").append(cell(proc, false)).append(" | – |\n");
                    continue;
                }
                b.append("| ").append(peer).append(" | ").append(streamCell(find(st, peer, "platform")))
                        .append(" | ").append(streamCell(find(st, peer, "virtual"))).append(" |\n");
            }
            b.append('\n');
        }
        List<Row> many = rows.stream().filter(r -> r.kind.equals(MANY)).toList();
        if (!many.isEmpty()) {
            List<Integer> ns = many.stream().map(Row::size).distinct().sorted().toList();
            String rounds = many.stream().map(r -> r.fields.get("rounds")).filter(java.util.Objects::nonNull).findFirst()
                    .map(n -> "; the median of " + n + " rounds, the peers taking turns").orElse("");
            b.append("Many connections (requests/s, 64 B request/echo, virtual-thread clients; p99 µs; CPU µs per request, client + server")
                    .append(rounds).append("):\n\n| peer |");
            for (int n : ns) b.append(' ').append(n).append(" clients |");
            b.append("\n|---|");
            for (int ignored : ns) b.append("---:|");
            b.append('\n');
            for (String peer : peersOf(many)) {
                b.append("| ").append(peer).append(" |");
                for (int n : ns) {
                    Row r = many.stream().filter(o -> o.peer.equals(peer) && o.size == n).findFirst().orElse(null);
                    String note = r == null ? "" : r.unavailable != null ? r.unavailable : r.fields.getOrDefault("note", "");
                    b.append(' ').append(r == null || !r.available() ? "n/a" : fmt(r.value) + " (p99 " + fmt(Json.num(r.fields.get("p99us")))
                                    + (Double.isNaN(r.cpuPerOp) ? "" : ", CPU " + fmt(r.cpuPerOp) + " µs/req") + ")")
                            .append(note.isEmpty() ? "" : " ⚠ " + mdCell(note)).append(" |");
                }
                b.append('\n');
            }
            b.append('\n');
        }
        List<Row> idle = rows.stream().filter(r -> r.kind.equals(IDLE))
                .sorted(Comparator.comparingInt(Row::size).thenComparingInt(Report::peerOrder)).toList();
        if (!idle.isEmpty()) {
            b.append("Idle readers (virtual threads blocked in read): CPU while idle (the server JVM's; the client JVM's in brackets), and whether idle readers woke:\n\n");
            b.append("| peer | idle readers | CPU (% of one core) | idle readers woke? |\n|---|---:|---:|---|\n");
            for (Row r : idle) {
                String woke = r.unavailable != null ? "n/a: " + mdCell(r.unavailable) : "true".equals(r.fields.get("woke"))
                        ? "yes (median " + r.fields.getOrDefault("wakeMedianUs", "?") + " µs)"
                        : "no (" + r.fields.getOrDefault("wakes", "?") + " wakes)";
                b.append("| ").append(r.peer).append(" | ").append(r.size).append(" | ")
                        .append(r.available() ? fmt(r.value) + (r.fields.containsKey("clientCpuPct")
                                ? " (" + fmt(Json.num(r.fields.get("clientCpuPct"))) + ")" : "") : "n/a")
                        .append(" | ").append(woke).append(" |\n");
            }
            b.append('\n');
        }
        return b.toString();
    }

    private List<Row> pick(String kind, int size) {
        return rows.stream().filter(r -> r.kind.equals(kind) && r.size == size).toList();
    }

    private static List<String> peersOf(List<Row> rs) {
        return rs.stream().sorted(Comparator.comparingInt(Report::peerOrder)).map(Row::peer).distinct().toList();
    }

    private static Row find(List<Row> rs, String peer, String threads) {
        return rs.stream().filter(r -> r.peer.equals(peer) && r.threads.equals(threads)).findFirst().orElse(null);
    }

    private String cell(Row r, boolean withC) {
        if (r == null) return "–";
        if (!r.available()) return "n/a";
        Row c = withC ? cFor(r) : null;
        return fmt(r.value) + (c == null ? "" : " (" + ratio(r, c) + " C)");
    }

    private String streamCell(Row r) {
        if (r == null) return "–";
        if (!r.available()) return "n/a";
        Row p = panapipeFor(r);
        Row c = cFor(r);
        StringBuilder s = new StringBuilder(fmt(r.value));
        List<String> rat = new ArrayList<>();
        if (p != null && p != r) rat.add(ratio(r, p) + " Panapipe");
        if (c != null) rat.add(ratio(r, c) + " C");
        if (!rat.isEmpty()) s.append(" (").append(String.join(", ", rat)).append(')');
        return s.toString();
    }

    private static String cpu(Row r) {
        return r == null || !r.available() || Double.isNaN(r.cpuPerOp) ? "–" : fmt(r.cpuPerOp);
    }

    private static String alloc(Row r) {
        return r == null || !r.available() || Double.isNaN(r.allocPerOp) ? "–" : fmt(r.allocPerOp);
    }

    /** A Markdown table row: the peer, its threads, then {@code cells}. */
    private static void tableRow(StringBuilder b, Row r, String... cells) {
        b.append("| ").append(r.peer).append(" | ").append(r.threads).append(" | ")
                .append(String.join(" | ", cells)).append(" |\n");
    }

    /** The row of a case that did not run: why, in the first of its {@code cells} cells, the rest empty. */
    private static void notAvailableRow(StringBuilder b, Row r, int cells) {
        b.append("| ").append(r.peer).append(" | ").append(r.threads).append(" | not available: ")
                .append(mdCell(r.unavailable)).append(" |").append(" |".repeat(cells - 1)).append('\n');
    }

    private static String mdCell(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }

    /** The SVG chart: one panel of horizontal bars per round-trip size and per streaming size. */
    public String svg(String title) {
        List<String> panels = new ArrayList<>();
        int width = 960;
        int labelW = 260;
        int barMax = width - labelW - 190; // room for the value, its CPU time and the top of an error bar
        int y = 84;
        StringBuilder body = new StringBuilder();
        List<Map.Entry<String, Map<Integer, List<Row>>>> sections = List.of(
                Map.entry(ROUND_TRIP, bySize(ROUND_TRIP)), Map.entry(STREAM, bySize(STREAM)));
        for (var sec : sections) {
            boolean rt = sec.getKey().equals(ROUND_TRIP);
            for (var e : sec.getValue().entrySet()) {
                List<Row> list = e.getValue();
                String head = rt ? "Round trip, " + sizeLabel(e.getKey()) + " — µs per round trip (lower is better)"
                        : "Streaming, " + sizeLabel(e.getKey()) + " writes — MiB/s (higher is better)";
                panels.add(head);
                body.append(text(20, y, head, 15, "bold", "start"));
                y += 12;
                // The scale leaves room for the top of an error bar up to twice the value; a longer one is cut
                // at the edge of the plot (an arrow instead of a cap), so one noisy row does not flatten the rest.
                double max = list.stream().filter(Row::available)
                        .mapToDouble(r -> r.value + Math.min(errorOf(r), r.value)).max().orElse(1);
                if (!(max > 0)) max = 1;
                for (Row r : list) {
                    y += 22;
                    body.append(text(labelW - 8, y, r.label(), 12, "normal", "end"));
                    if (!r.available()) {
                        body.append(text(labelW + 4, y, "not available", 12, "italic", "start"));
                        continue;
                    }
                    int w = (int) Math.max(1, Math.round(barMax * r.value / max));
                    String tip = fmt(r.value) + (errorOf(r) > 0 ? " ± " + fmt(r.error) : "")
                            + (Double.isNaN(r.cpuPerOp) ? "" : ", CPU " + fmt(r.cpuPerOp) + " µs/op");
                    body.append(String.format(Locale.ROOT,
                            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"%s\"><title>%s: %s</title></rect>\n",
                            labelW, y - 12, w, color(r), esc(r.label()), esc(tip)));
                    int end = labelW + w;
                    double err = errorOf(r);
                    if (err > 0) {
                        // JMH's 99.9% interval (the C rows: half the spread of their runs), as a whisker with caps.
                        int lo = (int) Math.max(labelW, Math.round(labelW + barMax * (r.value - err) / max));
                        long top = Math.round(labelW + barMax * (r.value + err) / max);
                        boolean cut = top > labelW + barMax;
                        int hi = (int) Math.min(top, labelW + barMax);
                        int mid = y - 4;
                        String endMark = cut
                                ? String.format(Locale.ROOT, "<polyline fill=\"none\" points=\"%d,%d %d,%d %d,%d\"/>",
                                        hi - 5, mid - 4, hi, mid, hi - 5, mid + 4)
                                : String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", hi, mid - 5, hi, mid + 5);
                        body.append(String.format(Locale.ROOT,
                                "<g class=\"error-bar\" stroke=\"#222222\" stroke-width=\"1.2\"><title>± %s%s</title>"
                                        + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                                        + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>%s</g>\n",
                                fmt(err), cut ? " (cut at the edge)" : "", lo, mid, hi, mid, lo, mid - 5, lo, mid + 5, endMark));
                        end = Math.max(end, hi);
                    }
                    String label = fmt(r.value) + (rt ? " µs" : " MiB/s")
                            + (rt && !Double.isNaN(r.cpuPerOp) ? " · CPU " + fmt(r.cpuPerOp) : "");
                    body.append(text(end + 6, y, label, 12, "normal", "start"));
                }
                y += 36;
            }
        }
        if (panels.isEmpty()) {
            body.append(text(20, y, "no round-trip or streaming results in this run", 13, "italic", "start"));
            y += 30;
        }
        String sub = meta.getOrDefault("cores", "?") + " cores, " + meta.getOrDefault("cpu", "?") + ", kernel "
                + meta.getOrDefault("kernel", "?") + " · JDK " + meta.getOrDefault("jdk", "?") + " · " + meta.getOrDefault("date", "?");
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + width + "\" height=\"" + (y + 10)
                + "\" viewBox=\"0 0 " + width + " " + (y + 10) + "\" font-family=\"sans-serif\">\n"
                + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                + text(20, 26, title, 18, "bold", "start") + text(20, 46, sub, 11, "normal", "start")
                + text(20, 62, "Whiskers: JMH's 99.9% confidence interval (C rows: half the spread of their runs; an arrow: cut at the edge)."
                        + " CPU: process CPU µs per round trip, both ends.", 11, "normal", "start")
                + body + "</svg>\n";
    }

    /** The row's error, 0 when it has none. */
    private static double errorOf(Row r) {
        return Double.isNaN(r.error) || r.error < 0 || Double.isInfinite(r.error) ? 0 : r.error;
    }

    private static String color(Row r) {
        if (r.peer.equals(Peers.C)) return "#888888";
        if (r.peer.equals(Peers.C_SPIN)) return "#b4b4b4";
        if (Peers.PANAPIPE.contains(r.peer)) return r.threads.equals("virtual") ? "#1f5fbf" : "#4f8fef";
        return r.threads.equals("virtual") ? "#d9822b" : "#f2b46d";
    }

    private static String text(int x, int y, String s, int size, String weight, String anchor) {
        String style = weight.equals("italic") ? "font-style=\"italic\"" : "font-weight=\"" + weight + "\"";
        return String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"%d\" %s text-anchor=\"%s\">%s</text>\n",
                x, y, size, style, anchor, esc(s));
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Writes {@code <base>.md} and {@code <base>.svg} into {@code dir}; returns the two paths. */
    public List<Path> write(Path dir, String base, String title) throws IOException {
        Files.createDirectories(dir);
        Path md = dir.resolve(base + ".md");
        Path svg = dir.resolve(base + ".svg");
        Files.writeString(md, markdown(title) + "Chart: " + svg.getFileName() + "\n", StandardCharsets.UTF_8);
        Files.writeString(svg, svg(title), StandardCharsets.UTF_8);
        return List.of(md, svg);
    }

    /** Fills machine facts of the current machine where the JSON has none. */
    public void defaultMeta(Map<String, String> current) {
        current.forEach(meta::putIfAbsent);
    }
}

package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

    static Report sample() throws IOException {
        try (InputStream in = ReportTest.class.getResourceAsStream("/sample-result.json")) {
            assertNotNull(in, "fixture");
            return Report.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static Report.Row row(Report r, String kind, String peer, String threads, int size) {
        return r.rows().stream()
                .filter(x -> x.kind().equals(kind) && x.peer().equals(peer) && x.threads().equals(threads) && x.size() == size)
                .findFirst().orElseThrow(() -> new AssertionError("no row " + kind + " " + peer + " " + threads + " " + size));
    }

    @Test
    void normalisesUnits() throws IOException {
        Report r = sample();
        assertEquals(15.0, row(r, Report.ROUND_TRIP, "panapipe-uring", "virtual", 64).value(), 1e-9, "ns/op -> µs/op");
        assertEquals(64000.0 * 65536 / 1048576, row(r, Report.STREAM, "jdk-nio", "platform", 65536).value(), 1e-9,
                "ops/s x size -> MiB/s");
        assertEquals(5000.0, row(r, Report.STREAM, "c", "process", 65536).value(), 1e-9, "MiB/s stays");
        assertEquals(12.0, row(r, Report.ROUND_TRIP, "jdk-nio", "virtual", 64).allocPerOp(), 1e-9);
        assertEquals("2", r.meta().get("cores"));
    }

    @Test
    void ratiosToPanapipeAndC() throws IOException {
        Report r = sample();
        Report.Row nio = row(r, Report.ROUND_TRIP, "jdk-nio", "virtual", 64);
        assertEquals("2.00x", Report.ratio(nio, r.panapipeFor(nio)), "30 µs vs Panapipe's 15 µs");
        assertEquals("2.50x", Report.ratio(nio, r.cFor(nio)), "30 µs vs C's 12 µs");
        Report.Row jus = row(r, Report.ROUND_TRIP, "junixsocket", "platform", 64);
        assertEquals("n/a", Report.ratio(jus, r.panapipeFor(jus)), "no Panapipe row for platform threads");
        Report.Row st = row(r, Report.STREAM, "jdk-nio", "platform", 65536);
        assertEquals("0.80x", Report.ratio(st, r.cFor(st)), "4000 MiB/s vs C's 5000 MiB/s");
    }

    private static Report.Row manyRow(String peer, String rounds, String roundsRps) {
        Map<String, String> f = new java.util.HashMap<>(Map.of("roundsRps", roundsRps));
        if (rounds != null) f.put("rounds", rounds);
        return new Report.Row(Report.MANY, peer, "virtual", 1000, 1, Double.NaN, Double.NaN, Double.NaN, null, f);
    }

    @Test
    void pairedRatioComparesRoundByRoundAndOnlyCompleteRounds() {
        Report.Row jdk = manyRow("jdk-nio", "4", "100/200/100/50");
        // Ratios 1.5, 0.9, 1.2, 2.0: median of an even count is the mean of the middle two.
        assertEquals("1.35x (0.90–2.00)", Report.pairedRatio(manyRow("panapipe-epoll", "4", "150/180/120/100"), jdk));
        assertEquals("–", Report.pairedRatio(jdk, jdk), "the reference itself");
        assertEquals("–", Report.pairedRatio(manyRow("panapipe-epoll", "4", "150/180/120"), jdk), "a failed round: nothing to pair");
        assertEquals("–", Report.pairedRatio(manyRow("panapipe-epoll", null, "150/180/120/100"), jdk), "no round count");
        assertEquals("–", Report.pairedRatio(manyRow("panapipe-epoll", "4", "150/180/120/100"), null), "no JDK row");
    }

    @Test
    void markdownTable() throws IOException {
        String md = sample().markdown("T");
        assertTrue(md.contains("- Machine: 2 cores, Test CPU, kernel Linux 6.0"), md);
        assertTrue(md.contains("- JDK: Test JDK 25"), md);
        // peer | threads | µs/op | ± | CPU µs/op | alloc B/op | vs Panapipe | vs C | vs C spin
        assertTrue(md.contains("| jdk-nio | virtual | 30.0 | 1.50 | 45.0 | 12.0 | 2.00x | 2.50x | 7.50x |"), md);
        assertTrue(md.contains("| panapipe-uring | virtual | 15.0 | 0.10 | – | 0.00 | 1.00x | 1.25x | 3.75x |"), md);
        assertTrue(md.contains("| junixsocket | platform | 20.0 | 0.50 | – | – | n/a | 1.67x | 5.00x |"), md);
        assertTrue(md.contains("| c | process | 12.0 | 0.20 | 20.0 | – | n/a | 1.00x | 3.00x |"), md);
        assertTrue(md.contains("| c-spin | process | 4.00 | 0.50 | 8.00 | – | n/a | 0.33x | 1.00x |"), md);
        assertTrue(md.contains("| jdk-nio | platform | 4,000 | 100 | – | n/a | 0.80x |"), md);
        assertTrue(md.contains("| ipcsocket-jna | virtual | not available: did not finish within 90 s (fork killed)"), md);
        assertTrue(md.contains("| jdk-nio | 1000 | 1000 | 1000 | 50,000 | 1.00x | – | 30.5 (14.0 + 16.5) | 20.0 | 200 | 900 | "
                + "48,000 (31.0), 50,000 (30.5), 52,000 (29.0) |"), md);
        assertTrue(md.contains("| panapipe-uring | 1000 | 1000 | 1000 | 60,000 | 1.20x | 1.22x (1.13–1.25) | 25.0 | 15.0 | 150 | 800 | "
                + "60,000 (25.0), 61,000 (24.0), 59,000 (26.0) |"), md);
        assertTrue(md.contains("a row is the peer's median round"), md);
        assertTrue(md.contains("Panapipe reference (\"vs Panapipe\"): panapipe-uring"), md);
        assertTrue(md.contains("| ipcsocket-jna | 1000 | 2 | 0.50 | no (0/5 wakes) | – / – | – | did not wake within 2.0 s |"), md);
        // Panapipe first, C last within a table.
        assertTrue(md.indexOf("| panapipe-uring | virtual") < md.indexOf("| jdk-nio | virtual"), md);
        assertTrue(md.indexOf("| junixsocket | platform") < md.indexOf("| c | process | 12.0"), md);
        assertTrue(md.indexOf("| c | process | 12.0") < md.indexOf("| c-spin | process"), md);
    }

    @Test
    void svgAndFiles(@TempDir Path dir) throws IOException {
        Report r = sample();
        List<Path> files = r.write(dir, "x", "Title <&>");
        String svg = Files.readString(files.get(1));
        assertTrue(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""), svg);
        assertTrue(svg.contains("Title &lt;&amp;&gt;"), svg);
        assertTrue(svg.contains("Round trip, 64 B"), svg);
        assertTrue(svg.contains("Streaming, 64 KiB writes"), svg);
        assertTrue(svg.contains("not available"), svg);
        assertTrue(svg.trim().endsWith("</svg>"));
        // Every bar fits in the picture.
        for (String part : svg.split("<rect ")) {
            if (!part.startsWith("x=")) continue;
            int x = Integer.parseInt(part.replaceAll("(?s)^x=\"(\\d+)\".*", "$1"));
            int w = Integer.parseInt(part.replaceAll("(?s)^.*?width=\"(\\d+)\".*", "$1"));
            assertTrue(x + w <= 960, part);
        }
        assertTrue(svg.contains("CPU 45.0"), "CPU per round trip beside the bar: " + svg);
        assertTrue(Files.readString(files.get(0)).contains("## Round trip, 64 B"));
    }

    /** The bars of the SVG, as (x, width) pairs, and its error bars, as (lo, hi) pairs, in document order. */
    static List<int[]> svgParts(String svg, String regex) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(svg);
        List<int[]> l = new java.util.ArrayList<>();
        while (m.find()) l.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
        return l;
    }

    @Test
    void errorBarsSpanTheIntervalAroundTheBarEnd() throws IOException {
        String svg = sample().svg("T");
        List<int[]> bars = svgParts(svg, "<rect x=\"(\\d+)\" y=\"\\d+\" width=\"(\\d+)\"");
        // The whisker's horizontal line: first <line> of each error-bar group.
        List<int[]> errs = svgParts(svg, "<g class=\"error-bar\"[^>]*><title>[^<]*</title><line x1=\"(\\d+)\" y1=\"\\d+\" x2=\"(\\d+)\"");
        // Round trip 64 B: every available row has an error (panapipe-uring, jdk-nio, junixsocket, c, c-spin);
        // streaming 64 KiB: jdk-nio and c. The unavailable one has neither bar nor whisker.
        assertEquals(7, errs.size(), svg);
        assertEquals(7, bars.size(), svg);
        for (int i = 0; i < bars.size(); i++) {
            int end = bars.get(i)[0] + bars.get(i)[1];
            int[] e = errs.get(i);
            assertTrue(e[0] <= end && end <= e[1], "bar end " + end + " inside its whisker " + e[0] + ".." + e[1]);
            assertTrue(e[0] >= 260 && e[1] <= 960, "whisker inside the plot: " + e[0] + ".." + e[1]);
        }
        // jdk-nio 30 ± 1.5 µs: the whisker is 10% of the bar long.
        int[] nioBar = bars.get(1);
        int[] nioErr = errs.get(1);
        assertEquals(0.10, (nioErr[1] - nioErr[0]) / (double) nioBar[1], 0.02, "2 x 1.5 / 30");
        assertTrue(svg.contains("99.9% confidence interval"), svg);
    }

    @Test
    void aWhiskerLongerThanTheValueIsCutAtTheEdgeAndDoesNotFlattenTheOtherBars() {
        String json = """
                [ {"benchmark": "x.RoundTripBench.roundTrip", "params": {"peer": "jdk-nio", "size": "64", "threads": "platform"},
                   "primaryMetric": {"score": 10.0, "scoreError": 1.0, "scoreUnit": "us/op"}},
                  {"benchmark": "x.RoundTripBench.roundTrip", "params": {"peer": "junixsocket", "size": "64", "threads": "platform"},
                   "primaryMetric": {"score": 10.0, "scoreError": 30.0, "scoreUnit": "us/op"}} ]
                """;
        String svg = Report.fromJson(json).svg("T");
        List<int[]> bars = svgParts(svg, "<rect x=\"(\\d+)\" y=\"\\d+\" width=\"(\\d+)\"");
        List<int[]> errs = svgParts(svg, "<g class=\"error-bar\"[^>]*><title>[^<]*</title><line x1=\"(\\d+)\" y1=\"\\d+\" x2=\"(\\d+)\"");
        assertEquals(2, bars.size(), svg);
        assertEquals(bars.get(0)[1], bars.get(1)[1], "same value, same bar");
        assertTrue(bars.get(0)[1] >= 200, "the scale is set by 2x the value, not by the 30 µs error: " + bars.get(0)[1]);
        assertTrue(errs.get(1)[1] <= 960 - 190, "cut at the plot's edge: " + errs.get(1)[1]);
        assertTrue(svg.contains("(cut at the edge)") && svg.contains("<polyline"), svg);
        assertEquals(1, svg.split("cut at the edge\\)</title>", -1).length - 1, "only the long one is cut");
    }

    @Test
    void referenceIsTheDefaultEnginesPeer() {
        String json = """
                [ {"benchmark": "panapipe.meta", "params": {"defaultEngine": "nio"}},
                  {"benchmark": "x.RoundTripBench.roundTrip", "params": {"peer": "panapipe-uring", "size": "64", "threads": "platform"},
                   "primaryMetric": {"score": 10.0, "scoreError": 1.0, "scoreUnit": "us/op"}},
                  {"benchmark": "x.RoundTripBench.roundTrip", "params": {"peer": "panapipe-nio", "size": "64", "threads": "platform"},
                   "primaryMetric": {"score": 20.0, "scoreError": 1.0, "scoreUnit": "us/op"}},
                  {"benchmark": "x.RoundTripBench.roundTrip", "params": {"peer": "jdk-nio", "size": "64", "threads": "platform"},
                   "primaryMetric": {"score": 30.0, "scoreError": 1.0, "scoreUnit": "us/op"},
                   "secondaryMetrics": {"cpu.time.norm": {"score": 31000.0, "scoreError": 5.0, "scoreUnit": "ns/op"}}} ]
                """;
        Report r = Report.fromJson(json);
        assertEquals("panapipe-nio", r.reference());
        Report.Row nio = row(r, Report.ROUND_TRIP, "jdk-nio", "platform", 64);
        assertEquals("1.50x", Report.ratio(nio, r.panapipeFor(nio)), "30 µs vs the nio engine's 20 µs");
        assertEquals(31.0, nio.cpuPerOp(), 1e-9, "ns/op -> µs/op");
        assertTrue(r.markdown("T").contains("panapipe-nio (the default engine here: nio)"));
        // Without a default engine in the run (older results): the first Panapipe peer.
        assertEquals(Peers.PANAPIPE.get(0), Report.fromJson(json.replace("\"nio\"}}", "\"none\"}}")).reference());
    }

    @Test
    void idleTableShowsServerAndClientJvmsAndKeepsOlderOneJvmResults() {
        String json = """
                [ {"benchmark": "harness.Idle", "mode": "harness", "params": {"peer": "panapipe-epoll", "connections": "10000", "threads": "virtual"},
                   "primaryMetric": {"score": 0.33, "scoreError": "NaN", "scoreUnit": "% of one core"},
                   "fields": {"carriers": "2", "clientCpuPct": "0.67", "woke": "true", "wakes": "5/5", "wakeMedianUs": "900.0",
                              "wakeMaxUs": "2000.0", "serverRssPerConnBytes": "4096", "clientRssPerConnBytes": "2048",
                              "rssPerConnBytes": "6144", "note": ""}},
                  {"benchmark": "harness.Idle", "mode": "harness", "params": {"peer": "jdk-nio", "connections": "1000", "threads": "virtual"},
                   "primaryMetric": {"score": 0.0, "scoreError": "NaN", "scoreUnit": "% of one core"},
                   "fields": {"carriers": "2", "woke": "true", "wakes": "5/5", "wakeMedianUs": "400.0", "wakeMaxUs": "900.0",
                              "rssPerConnBytes": "17000", "note": ""}} ]
                """;
        Report r = Report.fromJson(json);
        String md = r.markdown("T");
        assertTrue(md.contains("| panapipe-epoll | 10000 | 2 | 0.33 / 0.67 | yes | 900 / 2,000 | 4.0 KiB + 2.0 KiB = 6.0 KiB |"), md);
        assertTrue(md.contains("| jdk-nio | 1000 | 2 | 0.00 | yes | 400 / 900 | 16.6 KiB (one JVM, both ends) |"), md);
        assertTrue(md.indexOf("| jdk-nio | 1000") < md.indexOf("| panapipe-epoll | 10000"), "by size, then peer");
        String readme = r.readmeSection("a.md", "a.svg");
        assertTrue(readme.contains("| panapipe-epoll | 10000 | 0.33 (0.67) | yes (median 900.0 µs) |"), readme);
    }

    @Test
    void jsonRoundTrip() {
        Object v = Json.parse(Json.write(Map.of("a", List.of(1.5, "x\"y", true), "n", Double.NaN)));
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) v;
        assertEquals(List.of(1.5, "x\"y", true), m.get("a"));
        assertTrue(Double.isNaN(Json.num(m.get("n"))));
    }

    @Test
    void sizeLabels() {
        assertEquals("1 B", Report.sizeLabel(1));
        assertEquals("64 B", Report.sizeLabel(64));
        assertEquals("4 KiB", Report.sizeLabel(4096));
        assertEquals("1 MiB", Report.sizeLabel(1048576));
    }

    @Test
    void resultLineFields() {
        Map<String, String> f = Main.fields("RESULT n=10 connected=9 note=a_b");
        assertEquals("10", f.get("n"));
        assertEquals("9", f.get("connected"));
        assertEquals("boom here", Main.fields("RESULT error=boom here").get("error"));
    }

    @Test
    void readmeSectionQuotesTheRunWithRatiosAndLinks() throws IOException {
        String s = sample().readmeSection("bench/results/full-x.md", "bench/results/full-x.svg");
        assertTrue(s.contains("./run readme bench/results/full-x.json"), s);
        assertTrue(s.contains("](bench/results/full-x.md)") && s.contains("](bench/results/full-x.svg)"), s);
        assertTrue(s.contains("| panapipe-uring | – | 15.0 (") && s.contains("x C)"), s);
        assertTrue(s.contains("| c (two processes) | 12.0 | – | 20.0 | – |"), s);
        assertTrue(s.contains("| c-spin (two processes, busy-polling) | 4.00 | – | 8.00 | – |"), s);
        assertTrue(s.contains("| jdk-nio | – | 30.0 (2.50x C) | – / 45.0 | – / 12.0 |"), s);
        assertTrue(s.contains("50,000 (p99 200, CPU 30.5 µs/req)"), s);
        assertTrue(s.contains("64 KiB streaming") && s.contains("Many connections") && s.contains("Idle readers"), s);
    }
}

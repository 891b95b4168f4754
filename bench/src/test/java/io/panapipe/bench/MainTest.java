package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.Options;

/** The orchestration: case lists, -D pass-through, CPU per request. */
class MainTest {

    @AfterEach
    void noProperties() {
        Main.properties = List.of();
    }

    @Test
    void dashDArgumentsAreTakenOutWhereverTheyAre() {
        List<String> a = new ArrayList<>(List.of("-Dpanapipe.epoll.spin=off", "--case", "roundtrip/64/", "-Dflag", "--out", "/tmp/x"));
        assertEquals(List.of("-Dpanapipe.epoll.spin=off", "-Dflag"), Main.takeProperties(a));
        assertEquals(List.of("--case", "roundtrip/64/", "--out", "/tmp/x"), a);
        assertThrows(IllegalArgumentException.class, () -> Main.takeProperties(new ArrayList<>(List.of("-D=x"))));
    }

    @Test
    void propertiesAreSetInTheOrchestratingJvmToo() {
        try {
            Main.applyHere(List.of("-Dpanapipe.bench.test.a=1=2", "-Dpanapipe.bench.test.b"));
            assertEquals("1=2", System.getProperty("panapipe.bench.test.a"));
            assertEquals("", System.getProperty("panapipe.bench.test.b"));
        } finally {
            System.clearProperty("panapipe.bench.test.a");
            System.clearProperty("panapipe.bench.test.b");
        }
    }

    @Test
    void propertiesReachEveryForkAndChildJvmAndAPeersEngineWins() {
        Main.properties = List.of("-Dpanapipe.epoll.spin=off", "-Dpanapipe.engine=nio");
        String uring = Peers.PANAPIPE.get(0);
        List<String> args = List.of(Main.jvmArgs(uring));
        assertEquals(List.of("--enable-native-access=ALL-UNNAMED", "-Dpanapipe.epoll.spin=off", "-Dpanapipe.engine=nio",
                "-Dpanapipe.engine=" + Peers.engineOf(uring)), args, "the peer's engine last: the JVM takes the last -D");
        assertEquals(List.of("--enable-native-access=ALL-UNNAMED", "-Dpanapipe.epoll.spin=off", "-Dpanapipe.engine=nio"),
                List.of(Main.jvmArgs("jdk-nio")));

        // The JMH fork of a case gets them.
        Main.Case k = Main.Case.of(Main.Kind.ROUND_TRIP, "jdk-nio", 64, "virtual");
        Options o = Main.jmhOptions(k, Main.Settings.QUICK);
        assertTrue(o.getJvmArgsAppend().get().contains("-Dpanapipe.epoll.spin=off"), String.valueOf(o.getJvmArgsAppend().get()));
        assertEquals(1, o.getForkCount().get());
        assertTrue(o.getProfilers().stream().anyMatch(p -> p.getKlass().equals(CpuTimeProfiler.class.getName())),
                "CPU time per operation on every JMH case");
    }

    @Test
    void quickRunHasTheHeadlineForEveryPanapipePeerAndTheJdk() {
        List<String> ids = Main.quickCases().stream().map(Main.Case::id).toList();
        for (String p : Peers.PANAPIPE) {
            assertTrue(ids.contains("many/1000/" + p), ids.toString());
            assertTrue(ids.contains("idle/1000/" + p), ids.toString());
        }
        assertTrue(ids.contains("many/1000/jdk-nio") && ids.contains("idle/1000/jdk-nio"), ids.toString());
        assertTrue(ids.contains("roundtrip/64/c") && ids.contains("roundtrip/64/c-spin"), ids.toString());
        for (String p : Peers.javaPeers()) assertTrue(ids.contains("roundtrip/64/" + p + "/virtual"), p);
        List<String> full = Main.fullCases().stream().map(Main.Case::id).toList();
        assertTrue(full.containsAll(ids), "every quick case is a --case id too");
        for (String p : Peers.javaPeers()) assertTrue(full.contains("idle/10000/" + p), p);
    }

    private static Map<String, Object> manyEntry(double rps, String cpu) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("primaryMetric", Map.of("score", rps, "scoreError", Double.NaN, "scoreUnit", "req/s"));
        e.put("fields", new LinkedHashMap<String, Object>(Map.of("cpuUsPerReq", cpu, "p99us", cpu + "0")));
        return e;
    }

    @Test
    void eachRoundStartsWithTheNextPeerAndRunsEveryPeerOnce() {
        int[][] order = new int[3][3];
        for (int round = 1; round <= 3; round++) {
            for (int step = 0; step < 3; step++) order[round - 1][step] = Main.turn(step, round, 3);
        }
        assertArrayEquals(new int[][] {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}}, order);
        assertEquals(0, Main.turn(0, 4, 3), "once every peer has led a round, the rotation starts over");
    }

    @Test
    @SuppressWarnings("unchecked")
    void manyRoundsKeepTheMedianRoundWholeAndListEveryRound() {
        Map<String, Object> failed = new LinkedHashMap<>(Map.of("unavailable", "server did not start"));
        Map<String, Object> m = Main.combineRounds(List.of(manyEntry(90_000, "22.0"), failed,
                manyEntry(70_000, "28.0"), manyEntry(80_000, "25.0")));
        Map<String, Object> f = (Map<String, Object>) m.get("fields");
        // Of 70k, 80k and 90k the lower middle is 80k, with its own CPU and latency, not a mix.
        assertEquals(80_000.0, ((Map<String, Object>) m.get("primaryMetric")).get("score"));
        assertEquals("25.0", f.get("cpuUsPerReq"));
        assertEquals("25.00", f.get("p99us"));
        assertEquals("4", f.get("rounds"));
        assertEquals("90000/70000/80000", f.get("roundsRps"));
        assertEquals("22.0/28.0/25.0", f.get("roundsCpu"));
        assertTrue(String.valueOf(f.get("note")).contains("1 of 4 rounds failed: server did not start"), f.toString());
        assertEquals(failed, Main.combineRounds(List.of(failed, failed)), "nothing to pick: the failure says why");
    }

    @Test
    void cpuPerRequestAddsClientAndServer() {
        Map<String, String> f = new LinkedHashMap<>(Main.fields("RESULT n=10 requests=1000 clientCpuMs=20.0"));
        Main.cpuPerRequest(f, 1_000_000_000L, 1_030_000_000L); // the server used 30 ms in the window
        assertEquals("20.00", f.get("clientCpuUsPerReq"));
        assertEquals("30.00", f.get("serverCpuUsPerReq"));
        assertEquals("50.00", f.get("cpuUsPerReq"));
        Map<String, String> g = new LinkedHashMap<>(Main.fields("RESULT n=10 requests=1000 clientCpuMs=20.0"));
        Main.cpuPerRequest(g, -1, 5);
        assertEquals("20.00", g.get("clientCpuUsPerReq"));
        assertTrue(!g.containsKey("cpuUsPerReq"), "no server figure, no total");
    }

    @Test
    void cpuTimeProfilerReportsCpuPerRoundTripFromARealFork() throws Exception {
        Main.properties = List.of("-Dpanapipe.bench.test.marker=1");
        Main.Settings tiny = new Main.Settings(true, 1, java.time.Duration.ofMillis(200), 1, java.time.Duration.ofMillis(300),
                java.time.Duration.ofSeconds(60), 1, 1, 1, 1);
        Options o = Main.jmhOptions(Main.Case.of(Main.Kind.ROUND_TRIP, "jdk-nio", 64, "platform"), tiny);
        var results = new org.openjdk.jmh.runner.Runner(o, org.openjdk.jmh.runner.format.OutputFormatFactory.createFormatInstance(
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), org.openjdk.jmh.runner.options.VerboseMode.SILENT)).run();
        var rr = results.iterator().next();
        var cpu = rr.getSecondaryResults().get(CpuTimeProfiler.METRIC);
        assertTrue(cpu != null, "secondary results: " + rr.getSecondaryResults().keySet());
        assertEquals("ns/op", cpu.getScoreUnit());
        // Two threads each run a write and a read per round trip: it costs CPU, and not more than ~all the
        // machine's cores for the whole round trip time.
        double rtt = rr.getPrimaryResult().getScore() * 1e3;
        assertTrue(cpu.getScore() > 0 && cpu.getScore() < rtt * (Runtime.getRuntime().availableProcessors() + 1),
                "CPU " + cpu.getScore() + " ns/op vs round trip " + rtt + " ns");
    }
}

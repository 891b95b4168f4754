package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.panapipe.internal.Engines;
import java.io.EOFException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every Java peer adapter does real round trips and streaming over a real socket. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@DisabledOnOs(value = OS.WINDOWS, disabledReason = "the peers are Unix domain socket libraries (ipcsocket's "
        + "UnixDomainSocket is Unix-only); the comparison runs on Linux")
class PeersTest {

    /**
     * Every Java peer but the Panapipe peers of other engines than this JVM's own (a JVM runs one
     * Panapipe engine, the default one here; PanapipePeerTest covers every engine, JMH gives each peer its own fork).
     */
    static java.util.List<String> peers() {
        String mine = Engines.get().name();
        return Peers.javaPeers().stream().filter(p -> Peers.engineOf(p) == null || Peers.engineOf(p).equals(mine)).toList();
    }

    @Test
    @DisabledOnOs(OS.WINDOWS) // Unix sockets, like the other peer tests
    void aPanapipePeerRefusesAJvmOnAnotherEngine() throws Exception {
        String mine = Peers.peerOfEngine(Engines.get().name());
        org.junit.jupiter.api.Assumptions.assumeTrue(mine != null, "no peer for this JVM's engine");
        try (Link link = Link.open(Peers.of(mine), 1)) {
            org.junit.jupiter.api.Assertions.assertNotNull(link.client);
        }
        String other = Peers.PANAPIPE.stream().filter(p -> !p.equals(mine)).findFirst().orElseThrow();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Peers.of(other));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("one engine per JVM"), e.getMessage());
    }

    @Test
    void benchmarkParamListsNameEveryJavaPeer() throws Exception {
        for (Class<?> bench : new Class<?>[] {RoundTripBench.class, StreamBench.class}) {
            String[] values = bench.getField("peer").getAnnotation(org.openjdk.jmh.annotations.Param.class).value();
            assertEquals(Peers.javaPeers(), java.util.List.of(values),
                    bench.getSimpleName() + "'s @Param peer must list Peers.javaPeers() (add a new peer there too)");
        }
    }

    @Test
    void everyPanapipePeerHasItsEngineAndTheReferenceFollowsTheDefaultEngine() {
        for (String p : Peers.PANAPIPE) {
            assertEquals(p, Peers.peerOfEngine(Peers.engineOf(p)));
            assertEquals(java.util.List.of("-Dpanapipe.engine=" + Peers.engineOf(p)), Peers.jvmArgs(p));
            assertEquals(p, Peers.reference(Peers.engineOf(p)));
            assertTrue(Peers.headline().contains(p));
        }
        assertEquals(Peers.PANAPIPE.get(0), Peers.reference(null));
        assertEquals(Peers.PANAPIPE.get(0), Peers.reference("no-such-engine"));
        assertTrue(Peers.headline().contains("jdk-nio"));
        assertEquals(java.util.List.of(), Peers.jvmArgs("jdk-nio"));
    }

    @ParameterizedTest
    @MethodSource("peers")
    void roundTripOnPlatformAndVirtualThreads(String peer) throws Exception {
        for (String threads : new String[] {"platform", "virtual"}) {
            for (int size : new int[] {1, 64, 65536}) {
                try (Link link = Link.open(Peers.of(peer), size)) {
                    assertTrue(Files.exists(link.dir.resolve("s.sock")), "socket in its own temp dir");
                    link.startEcho(threads, size);
                    Link.onVirtualThread(() -> {
                        for (int i = 0; i < 3; i++) {
                            link.client.writeFully(size);
                            link.client.readFully(size);
                        }
                    }, Duration.ofSeconds(20));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("peers")
    void streamingReachesTheSinkAndEndOfStreamIsSeen(String peer) throws Exception {
        try (Link link = Link.open(Peers.of(peer), 4096)) {
            for (int i = 0; i < 16; i++) link.client.writeFully(4096);
            link.client.shutdownOutput();
            long got = 0;
            int r;
            while ((r = link.remote.read(4096)) >= 0) got += r;
            assertEquals(16 * 4096, got);
            assertThrows(EOFException.class, () -> link.remote.readFully(1));
        }
    }

    @Test
    void tempDirectoryIsDeleted() throws Exception {
        java.nio.file.Path dir;
        try (Link link = Link.open(Peers.of("jdk-nio"), 1)) {
            dir = link.dir;
        }
        assertTrue(Files.notExists(dir));
    }

    @Test
    void unknownPeerIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Peers.of("nope"));
        assertTrue(e.getMessage().contains("jdk-nio"));
    }

    @Test
    void cReferenceRunsOrSaysWhyNot() {
        CReference c = new CReference();
        try {
            CReference.Result r = c.pingpong(64, 2000, 1);
            if (c.unavailable() == null) {
                assertTrue(r.available(), String.valueOf(r.unavailable()));
                assertTrue(r.score() > 0 && r.score() < 10_000, "µs per round trip: " + r.score());
            } else {
                assertTrue(!r.available() && !r.unavailable().isEmpty());
            }
        } finally {
            c.cleanup();
        }
    }

    @Test
    void busyPollingCReferenceRunsWithCpuTimeOrSaysWhyNot() {
        CReference c = new CReference();
        try {
            CReference.Result r = c.spin(64, 2000, 1);
            if (c.spinUnavailable() == null) {
                assertTrue(r.available(), String.valueOf(r.unavailable()));
                assertTrue(r.score() > 0 && r.score() < 1_000_000, "µs per round trip: " + r.score());
                assertTrue(r.cpuPerOp() > 0, "CPU µs per round trip: " + r.cpuPerOp());
            } else {
                assertTrue(!r.available() && !r.unavailable().isEmpty());
            }
            CReference.Result b = c.pingpong(64, 2000, 1);
            CReference.Result st = c.stream(65536, 16, 1);
            if (c.unavailable() == null && c.spinUnavailable() == null) {
                assertTrue(b.cpuPerOp() > 0, "the blocking row's CPU through uds_spin rusage: " + b.cpuPerOp());
                assertTrue(st.cpuPerOp() > 0, "C streaming's CPU per write: " + st.cpuPerOp());
            }
        } finally {
            c.cleanup();
        }
    }

    @Test
    void missingCSourceIsReportedNotThrown() {
        String old = System.getProperty("panapipe.shared.dir");
        System.setProperty("panapipe.shared.dir", "/nonexistent-panapipe-dir");
        try {
            CReference c = new CReference();
            assertTrue(c.unavailable().contains("uds_baseline.c not found"), c.unavailable());
            assertTrue(!c.stream(65536, 16, 1).available());
        } finally {
            if (old == null) System.clearProperty("panapipe.shared.dir");
            else System.setProperty("panapipe.shared.dir", old);
        }
    }
}

package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
     * Every Java peer but the Panapipe peers of other engines: a JVM runs one Panapipe engine, and
     * this one runs the default, epoll (PanapipePeerTest runs once per engine; JMH gives each peer
     * its own fork).
     */
    static java.util.List<String> peers() {
        return Peers.javaPeers().stream()
                .filter(p -> !p.startsWith("panapipe-") || p.equals("panapipe-epoll")).toList();
    }

    @Test
    @DisabledOnOs(OS.WINDOWS) // Unix sockets, like the other peer tests
    void aPanapipePeerRefusesAJvmOnAnotherEngine() throws Exception {
        try (Link link = Link.open(Peers.of("panapipe-epoll"), 1)) {
            org.junit.jupiter.api.Assertions.assertNotNull(link.client);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Peers.of("panapipe-nio"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("one engine per JVM"), e.getMessage());
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

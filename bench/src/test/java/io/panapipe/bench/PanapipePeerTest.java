package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.panapipe.internal.Engines;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.condition.OS;

/**
 * A real round trip through the Panapipe peer of this JVM's engine, as the benchmarks drive it.
 * A JVM runs one engine, so the bench pom runs this class once per engine, each in its own fork
 * ({@code -Dpanapipe.engine=epoll}, {@code io_uring}, then {@code nio}); the default test run leaves it out.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@DisabledOnOs(value = OS.WINDOWS, disabledReason = "the Linux engines over AF_UNIX")
@EnabledIfSystemProperty(named = "panapipe.engine", matches = "epoll|io_uring|nio")
class PanapipePeerTest {

    static String peer() {
        String engine = System.getProperty(Engines.PROPERTY);
        String peer = Peers.PANAPIPE.stream().filter(p -> engine.equals(Peers.engineOf(p))).findFirst().orElseThrow();
        return peer;
    }

    @Test
    void roundTripOnPlatformAndVirtualThreads() throws Exception {
        String peer = peer();
        for (String threads : Main.THREADS) {
            for (int size : new int[] {1, 64, 65536}) {
                try (Link link = Link.open(Peers.of(peer), size)) {
                    link.startEcho(threads, size);
                    Link.IoRunnable batch = () -> {
                        for (int i = 0; i < 50; i++) {
                            link.client.writeFully(size);
                            link.client.readFully(size);
                        }
                    };
                    if (threads.equals("virtual")) Link.onVirtualThread(batch, Duration.ofSeconds(10));
                    else batch.run();
                }
            }
        }
        assertEquals(System.getProperty(Engines.PROPERTY), Engines.get().name(), "the peer ran on the engine asked for");
    }

    @Test
    void forksAndChildJvmsOfThisPeerAskForItsEngine() {
        String peer = peer();
        assertNotNull(Peers.engineOf(peer));
        assertEquals(java.util.List.of("--enable-native-access=ALL-UNNAMED", "-Dpanapipe.engine=" + Peers.engineOf(peer)),
                java.util.List.of(Main.jvmArgs(peer)));
    }
}

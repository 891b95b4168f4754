package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.panapipe.internal.Engines;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A real round trip through every Panapipe peer, as the benchmarks drive it, each in its own child
 * JVM started with the arguments a JMH fork of that peer gets ({@link Main#jvmArgs}): a JVM runs one
 * engine. A peer added to {@link Peers} is tested here without any other change.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
@DisabledOnOs(value = OS.WINDOWS, disabledReason = "the Linux engines over AF_UNIX")
class PanapipePeerTest {

    static List<String> peers() {
        return Peers.PANAPIPE;
    }

    @ParameterizedTest
    @MethodSource("peers")
    void roundTripOnPlatformAndVirtualThreadsInAForkOfItsOwn(String peer) throws Exception {
        String[] args = Main.jvmArgs(peer);
        assertEquals("-Dpanapipe.engine=" + Peers.engineOf(peer), args[args.length - 1],
                "the peer's engine is the fork's last word on it");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(args));
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add(Check.class.getName());
        cmd.add(peer);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        String line = ManyConnections.awaitLine(p, "RESULT", System.nanoTime() + TimeUnit.SECONDS.toNanos(60), out);
        if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        assertNotNull(line, "no RESULT from the child JVM of " + peer + ":\n" + out);
        assertEquals("RESULT ok engine=" + Peers.engineOf(peer), line, out.toString());
    }

    /** The child JVM: round trips through {@code args[0]} on both thread kinds, then prints its engine. */
    public static final class Check {
        public static void main(String[] args) {
            try {
                String peer = args[0];
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
                assertTrue(Engines.get().name().equals(System.getProperty(Engines.PROPERTY)), "ran on the engine asked for");
                System.out.println("RESULT ok engine=" + Engines.get().name());
            } catch (Throwable e) {
                System.out.println("RESULT error " + Main.oneLine(e.toString()));
            }
            System.out.flush();
            Runtime.getRuntime().halt(0);
        }
    }
}

package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** many/N end to end on a few connections: a server JVM and a client JVM driven by {@link Main#many}. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@EnabledOnOs(OS.LINUX)
class ManyHarnessTest {

    @ParameterizedTest
    @ValueSource(strings = {Peers.JDK, "panapipe-epoll"})
    @SuppressWarnings("unchecked")
    void warmsUpOnConnectionsOfItsOwnThenServesEveryMeasuredClient(String peer) throws Exception {
        Main.Settings tiny = new Main.Settings(true, 1, Duration.ofMillis(200), 1, Duration.ofMillis(300),
                Duration.ofSeconds(60), 1, 1, 0.5, 5);
        Map<String, Object> e = Main.many(Main.Case.of(Main.Kind.MANY, peer, 20, ""), tiny,
                new PrintStream(OutputStream.nullOutputStream()));
        assertNull(e.get("unavailable"), String.valueOf(e));
        Map<String, Object> f = (Map<String, Object>) e.get("fields");
        // Every warm-up connection made all its round trips before the measured clients started.
        assertEquals(Integer.toString(ManyConnections.WARMUP_CONNECTIONS), f.get("warmup"), f.toString());
        assertTrue(Double.parseDouble((String) f.get("warmupSeconds")) > 0, f.toString());
        // The measured clients are new connections of their own, all served to the end.
        assertEquals("20", f.get("connected"), f.toString());
        assertEquals("20", f.get("served"), f.toString());
        assertEquals("20", f.get("finished"), f.toString());
        assertEquals("0", f.get("ioErrors"), f.toString());
        assertTrue(Double.parseDouble((String) f.get("rps")) > 0, f.toString());
        assertEquals("", f.get("note"), f.toString());
    }
}

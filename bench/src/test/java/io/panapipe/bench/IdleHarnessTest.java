package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** idle/N end to end on a few connections: a server JVM and a client JVM driven by {@link Main#idle}. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@EnabledOnOs(OS.LINUX)
class IdleHarnessTest {

    @Test
    @SuppressWarnings("unchecked")
    void serverAndClientInTwoJvmsReportCpuMemoryAndWakes() throws Exception {
        Main.Settings tiny = new Main.Settings(true, 1, Duration.ofMillis(200), 1, Duration.ofMillis(300),
                Duration.ofSeconds(60), 1, 1, 0.5, 5);
        Map<String, Object> e = Main.idle(Main.Case.of(Main.Kind.IDLE, Peers.JDK, 50, ""), tiny,
                new PrintStream(OutputStream.nullOutputStream()));
        assertNull(e.get("unavailable"), String.valueOf(e));
        Map<String, Object> f = (Map<String, Object>) e.get("fields");
        assertEquals("50", f.get("connected"), f.toString());
        assertEquals("50", f.get("accepted"), f.toString());
        assertEquals("50", f.get("readersStarted"), f.toString());
        assertEquals("true", f.get("woke"), f.toString());
        assertEquals(IdleHarness.ROUNDS + "/" + IdleHarness.ROUNDS, f.get("wakes"), f.toString());
        assertEquals(Integer.toString(IdleHarness.WARMUP_ROUND_TRIPS), f.get("wakeWarmup"), f.toString());
        assertEquals(Integer.toString(IdleHarness.WARMUP_ROUND_TRIPS + IdleHarness.ROUNDS), f.get("serverEchoes"), f.toString());
        for (String k : new String[] {"serverCpuPct", "clientCpuPct", "serverRssPerConnBytes", "clientRssPerConnBytes"}) {
            assertTrue(f.containsKey(k), k + " in " + f);
        }
        assertTrue(Long.parseLong((String) f.get("serverFds")) >= 50 && Long.parseLong((String) f.get("clientFds")) >= 50, f.toString());
        assertEquals("", f.get("note"), f.toString());
    }
}

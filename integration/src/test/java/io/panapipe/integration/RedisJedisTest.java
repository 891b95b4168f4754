package io.panapipe.integration;

import io.panapipe.PipeName;
import io.panapipe.net.PipeSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisSocketFactory;
import redis.clients.jedis.exceptions.JedisConnectionException;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redis (Debian's {@code redis-server}) with TCP off ({@code port 0}) and a Unix socket in a
 * private temp dir, driven by Jedis through a {@link JedisSocketFactory} that hands out
 * Panapipe sockets.
 */
@DisabledOnOs(value = OS.WINDOWS, disabledReason = "the servers are started on Unix sockets; Windows is covered by core's tests")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisJedisTest {
    private static Path dir;
    private static Path socket;
    private static ServerProcess redis;

    @BeforeAll
    static void startRedis() throws Exception {
        dir = ServerProcess.tempDir("pp-redis");
        socket = dir.resolve("redis.sock");
        Path program = ServerProcess.findProgram("Redis (redis-server)", List.of("redis-server", "/usr/bin/redis-server"));
        redis = ServerProcess.start("redis", List.of(program.toString(), "--port", "0",
                "--unixsocket", socket.toString(), "--unixsocketperm", "777", "--dir", dir.toString(),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""), dir);
        redis.awaitReady(Duration.ofSeconds(30), () -> Files.exists(socket));
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
        ServerProcess.deleteTree(dir);
    }

    /** Jedis takes a factory of connected sockets; ours come from {@link PipeSocketFactory}. */
    private static Jedis jedis(int soTimeoutMillis) {
        PipeSocketFactory sockets = new PipeSocketFactory(PipeName.ofSocketPath(socket));
        JedisSocketFactory factory = () -> {
            try {
                Socket s = sockets.createSocket("localhost", 6379);
                s.setSoTimeout(soTimeoutMillis);
                return s;
            } catch (IOException e) {
                throw new JedisConnectionException("could not connect to " + socket, e);
            }
        };
        return new Jedis(factory);
    }

    @Test
    void commandsOverTheUnixSocket() {
        try (Jedis j = jedis(5_000)) {
            assertEquals("PONG", j.ping());
            assertEquals("OK", j.set("greeting", "hello over a pipe"));
            assertEquals("hello over a pipe", j.get("greeting"));
            assertEquals(1, j.incr("counter"));
            assertEquals(2, j.incr("counter"));
            // the server sees a Unix-socket client: CLIENT INFO names the socket path
            String info = j.clientInfo();
            assertTrue(info.contains(socket.toString()), info);
            assertTrue(j.configGet("port").containsValue("0"), "redis listens on no TCP port");
        }
    }

    @Test
    void aMegabyteValueAndAPipelinedBatch() {
        String big = "r".repeat(1 << 20);
        try (Jedis j = jedis(5_000)) {
            j.set("big", big);
            assertEquals(big, j.get("big"));
            var p = j.pipelined();
            for (int i = 0; i < 1_000; i++) {
                p.rpush("list", Integer.toString(i));
            }
            p.sync();
            assertEquals(1_000, j.llen("list"));
            assertEquals("999", j.lindex("list", -1));
        }
    }

    @Test
    void blockingPopWaitsOnTheServerThenReturns() {
        try (Jedis j = jedis(5_000)) {
            long t0 = System.nanoTime();
            List<String> none = j.blpop(1, "nothing-here");   // the server answers nil after 1 s
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertNull(none);
            assertTrue(ms >= 900 && ms < 4_500, "BLPOP returned after " + ms + " ms");
            assertEquals("PONG", j.ping());
        }
    }
}

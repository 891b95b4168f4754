package io.panapipe.examples;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeName;
import io.panapipe.PipeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The portable examples (echo, multi-instance, busy client, cancellable accept) over the portable API: these run on Windows, on io_uring and on the nio fallback. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PortableExamplesTest {
    private static PipeName unique(String what) {
        return PipeName.of("ex-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000);
    }

    @Test
    void singleInstanceEchoServerWithTimeouts() throws Exception {
        PipeName name = unique("echo");
        try (PipeServer server = EchoServer.bind(name)) {
            CompletableFuture<Long> echoed = CompletableFuture.supplyAsync(() -> {
                try {
                    return EchoServer.serve(server, 3, Duration.ofSeconds(5));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            assertEquals("hello", EchoClient.echo(name, "hello", Duration.ofSeconds(5)));
            assertEquals("a second client", EchoClient.echo(name, "a second client", Duration.ofSeconds(5)));
            // a silent client is dropped after the read timeout (shortened via a third client that says nothing)
            try (Pipe idle = PipeClient.connect(name, Duration.ofSeconds(5))) {
                assertEquals(-1, idle.read(java.lang.foreign.Arena.ofAuto().allocate(16), Duration.ofSeconds(20)));
            }
            assertEquals(5 + 15, echoed.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void multiInstanceServerServesSimultaneousClientsAndReconnects() throws Exception {
        PipeName name = unique("multi");
        try (MultiInstanceServer server = new MultiInstanceServer(name)) {
            // four at once, holding their connections while the others talk
            CountDownLatch allConnected = new CountDownLatch(MultiInstanceServer.INSTANCES);
            List<Future<List<String>>> results = new ArrayList<>();
            var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            for (int i = 0; i < MultiInstanceServer.INSTANCES; i++) {
                int id = i;
                results.add(pool.submit(() -> {
                    try (Pipe pipe = PipeClient.connect(name, Duration.ofSeconds(10))) {
                        allConnected.countDown();
                        assertTrue(allConnected.await(10, TimeUnit.SECONDS), "four simultaneous clients");
                        byte[] req = ("client " + id).getBytes();
                        pipe.outputStream().write(req);
                        byte[] reply = new byte[6 + req.length];
                        pipe.inputStream().readNBytes(reply, 0, reply.length);
                        return List.of(new String(reply));
                    }
                }));
            }
            for (int i = 0; i < results.size(); i++) {
                assertEquals(List.of("echo: client " + i), results.get(i).get(20, TimeUnit.SECONDS));
            }
            // each instance takes new clients after its client left
            for (int round = 0; round < 3; round++) {
                assertEquals(List.of("echo: again"), BusyClient.exchange(name, Duration.ofSeconds(10), "again"));
            }
            pool.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (server.served() < MultiInstanceServer.INSTANCES + 3 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(MultiInstanceServer.INSTANCES + 3, server.served());
        }
    }

    @Test
    void busyClientWaitsThenTalksTwiceOnOneConnection() throws Exception {
        PipeName name = unique("busy");
        try (MultiInstanceServer server = new MultiInstanceServer(name)) {
            // occupy every instance, then free one after a while: the client waits for it
            List<Pipe> hogs = new ArrayList<>();
            for (int i = 0; i < MultiInstanceServer.INSTANCES; i++) {
                hogs.add(PipeClient.connect(name, Duration.ofSeconds(10)));
            }
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(300);
                    hogs.get(0).close();
                } catch (Exception ignored) {
                    // test thread reports
                }
            });
            List<String> replies = BusyClient.exchange(name, Duration.ofSeconds(15), "first", "second");
            assertEquals(List.of("echo: first", "echo: second"), replies);
            for (Pipe p : hogs) {
                p.close();
            }
        }
    }

    @Test
    void shutdownSignalEndsAcceptGracefully() throws Exception {
        PipeName name = unique("cancel");
        CancellableAccept app = new CancellableAccept(name);
        AtomicInteger handled = new AtomicInteger();
        CompletableFuture<Void> loop = CompletableFuture.runAsync(() -> {
            try {
                app.run(pipe -> {
                    handled.incrementAndGet();
                    try {
                        pipe.close();
                    } catch (IOException ignored) {
                        // fine
                    }
                });
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        try (Pipe p = PipeClient.connect(name, Duration.ofSeconds(10))) {
            assertEquals(-1, p.read(java.nio.ByteBuffer.allocate(4)));
        }
        Thread.sleep(100); // the loop is blocked in accept again
        long t0 = System.nanoTime();
        app.shutdown();
        loop.get(5, TimeUnit.SECONDS); // ended normally, no exception
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
        assertEquals(1, app.accepted());
        assertEquals(1, handled.get());
    }
}

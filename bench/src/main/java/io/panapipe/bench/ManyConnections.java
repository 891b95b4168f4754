package io.panapipe.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many connections: N virtual-thread clients against one server with a virtual thread per
 * connection, each client doing 64-byte request/echo round trips for a fixed time. Server and
 * clients are separate JVMs (each end holds N descriptors; one process would need 2N). Every
 * phase has a deadline; a phase that stalls (carriers pinned by blocking native reads) is
 * reported, not waited for.
 *
 * <pre>
 *   server PEER SOCKET MAX_SECONDS          prints READY, echoes until stdin closes or MAX_SECONDS
 *   client PEER SOCKET N SECONDS            prints one RESULT line with key=value pairs
 * </pre>
 */
public final class ManyConnections {
    static final int SIZE = 64;
    static final long CONNECT_PHASE_SECONDS = 30;

    private ManyConnections() {}

    public static void main(String[] args) throws Exception {
        try {
            switch (args[0]) {
                case "server" -> server(Peers.of(args[1]), Path.of(args[2]), Long.parseLong(args[3]));
                case "client" -> client(Peers.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]),
                        Long.parseLong(args[4]));
                default -> throw new IllegalArgumentException(args[0]);
            }
        } catch (Throwable e) {
            System.out.println("RESULT error=" + Main.oneLine(e.toString()));
            System.out.flush();
        }
        System.out.flush();
        Runtime.getRuntime().halt(0); // stuck (pinned) threads must not keep the JVM alive
    }

    static void server(Transport t, Path sock, long maxSeconds) throws Exception {
        Transport.Server server = t.bind(sock);
        ConcurrentLinkedQueue<Transport.Conn> conns = new ConcurrentLinkedQueue<>();
        Thread.ofPlatform().daemon().name("accept").start(() -> {
            while (true) {
                try {
                    Transport.Conn c = server.accept(SIZE);
                    conns.add(c);
                    Thread.ofVirtual().start(() -> {
                        try {
                            while (true) {
                                c.readFully(SIZE);
                                c.writeFully(SIZE);
                            }
                        } catch (IOException endOfStream) {
                            Link.closeQuietly(c);
                        }
                    });
                } catch (IOException closed) {
                    return;
                }
            }
        });
        System.out.println("READY");
        System.out.flush();
        // Until the orchestrator closes our stdin, or the time limit.
        Thread stdin = Thread.ofPlatform().daemon().start(() -> {
            try {
                while (System.in.read() >= 0) { /* wait for EOF */ }
            } catch (IOException ignored) {
                // treat as EOF
            }
        });
        stdin.join(TimeUnit.SECONDS.toMillis(maxSeconds));
        Link.closeQuietly(server);
        conns.forEach(Link::closeQuietly);
    }

    static void client(Transport t, Path sock, int n, long seconds) throws Exception {
        Histogram h = new Histogram();
        AtomicInteger connected = new AtomicInteger();
        AtomicInteger connectErrors = new AtomicInteger();
        AtomicInteger ioErrors = new AtomicInteger();
        AtomicLong requests = new AtomicLong();
        AtomicInteger served = new AtomicInteger(); // clients that completed at least one request
        CountDownLatch allConnected = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        Semaphore connecting = new Semaphore(256); // don't overrun the listen backlog
        List<Transport.Conn> conns = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicLong stopAt = new AtomicLong(Long.MAX_VALUE);
        long connectDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CONNECT_PHASE_SECONDS);
        List<Thread> threads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                Transport.Conn c = null;
                try {
                    while (c == null && System.nanoTime() < connectDeadline) {
                        connecting.acquire();
                        try {
                            c = t.connect(sock, SIZE);
                        } catch (IOException e) {
                            connectErrors.incrementAndGet();
                            Thread.sleep(5);
                        } finally {
                            connecting.release();
                        }
                    }
                    if (c == null) return;
                    conns.add(c);
                    connected.incrementAndGet();
                } catch (InterruptedException e) {
                    return;
                } finally {
                    allConnected.countDown();
                }
                try {
                    go.await();
                    long end = stopAt.get();
                    boolean first = true;
                    while (System.nanoTime() < end) {
                        long t0 = System.nanoTime();
                        c.writeFully(SIZE);
                        c.readFully(SIZE);
                        h.record(System.nanoTime() - t0);
                        requests.incrementAndGet();
                        if (first) {
                            served.incrementAndGet();
                            first = false;
                        }
                    }
                } catch (IOException e) {
                    ioErrors.incrementAndGet();
                } catch (InterruptedException e) {
                    // stop
                }
            }));
        }
        boolean allIn = allConnected.await(CONNECT_PHASE_SECONDS + 5, TimeUnit.SECONDS);
        int nConnected = connected.get();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        // The orchestrator samples the server's CPU time when it sees this line, and again at RESULT.
        System.out.println("GO");
        System.out.flush();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        stopAt.set(t0 + TimeUnit.SECONDS.toNanos(seconds));
        long before = requests.get();
        go.countDown();
        // Wait for the clients to finish their last request, bounded.
        long hard = t0 + TimeUnit.SECONDS.toNanos(seconds + 5);
        int finished = 0;
        for (Thread th : threads) {
            long left = hard - System.nanoTime();
            if (left > 0 && th.join(java.time.Duration.ofNanos(left))) finished++;
        }
        double elapsed = Math.min(System.nanoTime() - t0, TimeUnit.SECONDS.toNanos(seconds + 5)) / 1e9;
        long done = requests.get() - before;
        double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6;
        double rps = done / Math.max(seconds, elapsed);
        System.out.println(String.format(Locale.ROOT,
                "RESULT n=%d connected=%d allConnected=%b served=%d finished=%d requests=%d seconds=%.2f rps=%.1f "
                        + "p50us=%.1f p99us=%.1f p999us=%.1f connectErrors=%d ioErrors=%d carriers=%d clientCpuMs=%.1f",
                n, nConnected, allIn, served.get(), finished, done, elapsed, rps,
                h.quantile(0.50) / 1e3, h.quantile(0.99) / 1e3, h.quantile(0.999) / 1e3,
                connectErrors.get(), ioErrors.get(), carriers(), cpuMs));
        System.out.flush();
        conns.forEach(Link::closeQuietly);
    }

    static int carriers() {
        String p = System.getProperty("jdk.virtualThreadScheduler.parallelism");
        return p != null ? Integer.parseInt(p) : Runtime.getRuntime().availableProcessors();
    }

    /** Reads lines from a child until one starts with {@code prefix} or the deadline passes. */
    static String awaitLine(Process p, String prefix, long deadlineNanos, StringBuilder log) throws IOException {
        return awaitLine(p, prefix, deadlineNanos, log, line -> { });
    }

    /** As above, and hands every line to {@code onLine} as it arrives (on the reading thread). */
    static String awaitLine(Process p, String prefix, long deadlineNanos, StringBuilder log,
                            java.util.function.Consumer<String> onLine) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String[] found = new String[1];
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (log) {
                        log.append(line).append('\n');
                    }
                    onLine.accept(line);
                    if (line.startsWith(prefix)) {
                        found[0] = line;
                        return;
                    }
                }
            } catch (IOException ignored) {
                // child gone
            }
        });
        try {
            long left = deadlineNanos - System.nanoTime();
            if (left > 0) reader.join(java.time.Duration.ofNanos(left));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return found[0];
    }
}

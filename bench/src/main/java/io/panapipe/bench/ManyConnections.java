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
 * connection, each client doing 64-byte request/echo round trips for a fixed time, after a warm-up
 * ({@link #WARMUP_CONNECTIONS}). Server and
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
                    Thread.ofVirtual().start(() -> echo(c, conns));
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

    /** One connection's virtual thread in the server: echoes requests until the client closes. */
    private static void echo(Transport.Conn c, ConcurrentLinkedQueue<Transport.Conn> conns) {
        try {
            while (true) {
                c.readFully(SIZE);
                c.writeFully(SIZE);
            }
        } catch (IOException endOfStream) {
            Link.closeQuietly(c);
            conns.remove(c);
        }
    }

    /**
     * Connections made, used for {@link #WARMUP_REQUESTS} round trips and closed, two at a time,
     * before the measured ones: a server that has run a while. Each connection's thread starts in
     * the code its first frames are compiled to at that moment and keeps those frames until it ends
     * (the JVM moves a running loop to compiled code only now and then). Without the warm-up the
     * first few hundred connections of a fresh JVM run their loops interpreted for the whole
     * measurement, and every park of such a thread takes the JVM's slow path of freezing and
     * thawing its stack: the benchmark then measured the JIT's warm-up, and hid the transports'
     * differences. With 2,000 connections of 16 round trips every frame a measured connection's
     * thread starts with is compiled, on this machine ({@code -XX:+PrintCompilation}): the client's
     * connection method by C2, the server's by C1 (C2 follows during the measurement). The same
     * for every peer.
     */
    static final int WARMUP_CONNECTIONS = Integer.getInteger("panapipe.bench.warmupConnections", 2000);
    static final int WARMUP_REQUESTS = Integer.getInteger("panapipe.bench.warmupRequests", 16);
    static final long WARMUP_SECONDS = 20;
    /** After the warm-up, time for the compiler queue to drain before the measured threads start. */
    static final long WARMUP_SETTLE_MILLIS = 1000;

    /** The state one phase's client connections share (the warm-up or the measured run). */
    private static final class Phase {
        final Transport t;
        final Path sock;
        final long connectDeadline;
        final long maxRequests;
        final Histogram h = new Histogram();
        final AtomicInteger connected = new AtomicInteger();
        final AtomicInteger connectErrors = new AtomicInteger();
        final AtomicInteger ioErrors = new AtomicInteger();
        final AtomicLong requests = new AtomicLong();
        final AtomicInteger served = new AtomicInteger(); // clients that completed at least one request
        /** Connections that have connected or given up (polled: a latch would take another branch when it reaches zero). */
        final AtomicInteger settled = new AtomicInteger();
        final CountDownLatch go;
        final Semaphore connecting = new Semaphore(256); // don't overrun the listen backlog
        final List<Transport.Conn> conns = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicLong stopAt;

        Phase(Transport t, Path sock, long connectDeadline, long maxRequests,
              CountDownLatch go, long stopAt) {
            this.t = t;
            this.sock = sock;
            this.connectDeadline = connectDeadline;
            this.maxRequests = maxRequests;
            this.go = go;
            this.stopAt = new AtomicLong(stopAt);
        }
    }

    /** Starts a client connection's virtual thread: one lambda for the warm-up and the measured run, so both run the same frames. */
    private static Thread startClientConnection(Phase ph) {
        return Thread.ofVirtual().start(() -> clientConnection(ph));
    }

    /** One client connection's virtual thread, in the warm-up and in the measured run alike. */
    private static void clientConnection(Phase ph) {
        Transport.Conn c = null;
        try {
            while (c == null && System.nanoTime() < ph.connectDeadline) {
                ph.connecting.acquire();
                try {
                    c = ph.t.connect(ph.sock, SIZE);
                } catch (IOException e) {
                    ph.connectErrors.incrementAndGet();
                    Thread.sleep(5);
                } finally {
                    ph.connecting.release();
                }
            }
            if (c == null) return;
            ph.conns.add(c);
            ph.connected.incrementAndGet();
        } catch (InterruptedException e) {
            return;
        } finally {
            ph.settled.incrementAndGet();
        }
        try {
            ph.go.await();
            long end = ph.stopAt.get();
            boolean first = true;
            for (long left = ph.maxRequests; left > 0 && System.nanoTime() < end; left--) {
                long t0 = System.nanoTime();
                c.writeFully(SIZE);
                c.readFully(SIZE);
                ph.h.record(System.nanoTime() - t0);
                ph.requests.incrementAndGet();
                if (first) {
                    ph.served.incrementAndGet();
                    first = false;
                }
            }
        } catch (IOException e) {
            ph.ioErrors.incrementAndGet();
        } catch (InterruptedException e) {
            // stop
        }
    }

    /**
     * The warm-up ({@link #WARMUP_CONNECTIONS}): each connection on a virtual thread of its own
     * (the frames to compile are those a connection's thread starts with), at most one at a time
     * per carrier, so that a peer whose reads pin the carriers cannot deadlock it; bounded by
     * {@link #WARMUP_SECONDS}.
     *
     * @return how many warm-up connections completed their round trips
     */
    private static int warmUp(Transport t, Path sock) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WARMUP_SECONDS);
        CountDownLatch open = new CountDownLatch(0);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        List<Thread> streams = new ArrayList<>();
        for (int s = 0; s < Math.min(2, carriers()); s++) {
            streams.add(Thread.ofPlatform().daemon().name("warm-up-" + s).start(() -> {
                while (next.getAndIncrement() < WARMUP_CONNECTIONS) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) return;
                    Phase ph = new Phase(t, sock, deadline, WARMUP_REQUESTS, open, deadline);
                    Thread th = startClientConnection(ph);
                    try {
                        if (!th.join(java.time.Duration.ofNanos(left))) return;
                    } catch (InterruptedException e) {
                        return;
                    }
                    ph.conns.forEach(Link::closeQuietly);
                    if (ph.requests.get() == WARMUP_REQUESTS) done.incrementAndGet();
                }
            }));
        }
        for (Thread s : streams) {
            s.join(java.time.Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        }
        Thread.sleep(WARMUP_SETTLE_MILLIS);
        return done.get();
    }

    static void client(Transport t, Path sock, int n, long seconds) throws Exception {
        long w0 = System.nanoTime();
        int warmedUp = warmUp(t, sock);
        double warmupSeconds = (System.nanoTime() - w0) / 1e9;
        CountDownLatch go = new CountDownLatch(1);
        long connectDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CONNECT_PHASE_SECONDS);
        Phase ph = new Phase(t, sock, connectDeadline, Long.MAX_VALUE, go, Long.MAX_VALUE);
        List<Thread> threads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            threads.add(startClientConnection(ph));
        }
        long settleBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(CONNECT_PHASE_SECONDS + 5);
        while (ph.settled.get() < n && System.nanoTime() < settleBy) {
            Thread.sleep(10);
        }
        boolean allIn = ph.settled.get() == n;
        int nConnected = ph.connected.get();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        // The orchestrator samples the server's CPU time when it sees this line, and again at RESULT.
        System.out.println("GO");
        System.out.flush();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        ph.stopAt.set(t0 + TimeUnit.SECONDS.toNanos(seconds));
        long before = ph.requests.get();
        go.countDown();
        // Wait for the clients to finish their last request, bounded.
        long hard = t0 + TimeUnit.SECONDS.toNanos(seconds + 5);
        int finished = 0;
        for (Thread th : threads) {
            long left = hard - System.nanoTime();
            if (left > 0 && th.join(java.time.Duration.ofNanos(left))) finished++;
        }
        double elapsed = Math.min(System.nanoTime() - t0, TimeUnit.SECONDS.toNanos(seconds + 5)) / 1e9;
        long done = ph.requests.get() - before;
        double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6;
        double rps = done / Math.max(seconds, elapsed);
        Histogram h = ph.h;
        System.out.println(String.format(Locale.ROOT,
                "RESULT n=%d connected=%d allConnected=%b served=%d finished=%d requests=%d seconds=%.2f rps=%.1f "
                        + "p50us=%.1f p99us=%.1f p999us=%.1f connectErrors=%d ioErrors=%d carriers=%d clientCpuMs=%.1f "
                        + "warmup=%d warmupSeconds=%.2f",
                n, nConnected, allIn, ph.served.get(), finished, done, elapsed, rps,
                h.quantile(0.50) / 1e3, h.quantile(0.99) / 1e3, h.quantile(0.999) / 1e3,
                ph.connectErrors.get(), ph.ioErrors.get(), carriers(), cpuMs, warmedUp, warmupSeconds));
        System.out.flush();
        ph.conns.forEach(Link::closeQuietly);
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

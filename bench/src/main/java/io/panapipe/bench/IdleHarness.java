package io.panapipe.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Idle behaviour: N idle connections between a server JVM and a client JVM, the server's end of each
 * read by a virtual thread blocked in {@code read} (a thread per connection, as a server has) while
 * nothing is sent; the client's ends are held idle, with no thread. Two processes because one would
 * hold 2N descriptors (idle/10000 needs 20,000 plus the JVM's own, over many a hard limit); each
 * process holds N and a little slack. {@link Main} starts both with {@link Main#childJava} (so
 * {@code -D} properties and the peer's engine reach both), drives them by lines through
 * {@link ChildJvm}, and measures each process's CPU time over the idle window from outside. After
 * the window, a few idle connections (spread over them, not the first) get one byte each: the
 * server's reader, blocked since the start, must wake and echo it within the timeout.
 *
 * <pre>
 *   server PEER SOCKET N MAX_SECONDS   binds, prints READY; accepts N, a virtual-thread reader per
 *                                      connection that echoes each byte it gets; then on stdin:
 *                                      SETTLE K   waits (bounded) for K accepted and their readers, prints SETTLED
 *                                      REPORT     prints REPORT (how many bytes its readers echoed)
 *   client PEER SOCKET N MAX_SECONDS   connects N from a platform thread, prints SETTLED; then on stdin:
 *                                      WAKE R T   {@value #WARMUP_ROUND_TRIPS} round trips on the first connection
 *                                                 (warm-up), then R times: one byte on one idle connection,
 *                                                 from a platform thread that then reads the echo (bounded
 *                                                 by T s); prints WOKE
 * </pre>
 *
 * Each prints {@code ERROR <message>} instead when it fails, and ends when its stdin closes (the
 * parent ended it or died) or after MAX_SECONDS, whichever comes first. Every wait is bounded.
 */
public final class IdleHarness {
    /** How long the client may take to connect all N. */
    static final long CONNECT_PHASE_SECONDS = 60;
    /** How long the server waits for its readers to start (pinned carriers stop them). */
    static final long SETTLE_SECONDS = 10;
    /** Descriptors a harness JVM needs besides its N connections (the JVM's own, the peer's pollers, jars). */
    static final int FD_SLACK = 256;
    /** Wake-up tries after the idle window (enough for a median that two runs agree on; 100 ms apart). */
    static final int ROUNDS = 20;
    /**
     * Round trips on the first connection before the wake-ups, so that both processes' request path
     * is compiled, as in a program that has been serving for a while: 20 wakes alone run mostly in the
     * interpreter, where a peer's longer Java path (FFM downcalls above all) costs hundreds of
     * microseconds that have nothing to do with waking an idle reader.
     */
    static final int WARMUP_ROUND_TRIPS = 5_000;
    /** How long the wakes wait for the warm-up (which needs connection 0's reader to run) before going ahead cold. */
    static final long WARMUP_SECONDS = 10;

    private IdleHarness() {}

    private static final BlockingQueue<String> COMMANDS = new LinkedBlockingQueue<>();

    public static void main(String[] args) {
        long maxSeconds = Long.parseLong(args[4]);
        Thread.ofPlatform().daemon().name("lifetime").start(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
            } catch (InterruptedException ignored) {
                // halt anyway
            }
            System.out.println(ChildJvm.ERROR + " " + args[0] + " still running after " + maxSeconds + " s, exiting");
            System.out.flush();
            Runtime.getRuntime().halt(1);
        });
        // The parent closes our stdin to end us, and so does its death: then nothing is left to do.
        Thread.ofPlatform().daemon().name("stdin").start(() -> {
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while ((line = r.readLine()) != null) COMMANDS.add(line.trim());
            } catch (IOException ignored) {
                // as end of input
            }
            System.out.flush();
            Runtime.getRuntime().halt(0); // pinned readers must not keep the JVM alive
        });
        try {
            Transport t = Peers.of(args[1]);
            Path sock = Path.of(args[2]);
            int n = Integer.parseInt(args[3]);
            switch (args[0]) {
                case "server" -> server(t, sock, n, maxSeconds);
                case "client" -> client(t, sock, n, maxSeconds);
                default -> throw new IllegalArgumentException(args[0]);
            }
        } catch (Throwable e) {
            System.out.println(ChildJvm.ERROR + " " + args[0] + ": " + Main.oneLine(e.toString()));
        }
        System.out.flush();
        // Stay until our stdin closes (the parent may still sample this process), bounded by the lifetime thread.
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Runtime.getRuntime().halt(0);
            }
        }
    }

    /** The next command from stdin, or an exception after {@code seconds}. */
    private static String command(String expected, long seconds) throws Exception {
        String c = COMMANDS.poll(seconds, TimeUnit.SECONDS);
        if (c == null) throw new IllegalStateException("no " + expected + " command within " + seconds + " s");
        if (!c.startsWith(expected)) throw new IllegalStateException("expected " + expected + ", got " + c);
        return c;
    }

    private static void out(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void server(Transport t, Path sock, int n, long maxSeconds) throws Exception {
        checkDescriptors(n);
        long rss0 = rssBytes(); // before the peer's first connection: its engine starts lazily
        Transport.Server server = t.bind(sock);
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger reading = new AtomicInteger();
        AtomicInteger echoed = new AtomicInteger();
        List<Transport.Conn> conns = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread.ofPlatform().daemon().name("accept").start(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    Transport.Conn c = server.accept(1);
                    conns.add(c);
                    accepted.incrementAndGet();
                    Thread.ofVirtual().start(() -> {
                        reading.incrementAndGet();
                        try {
                            while (c.read(1) > 0) {
                                c.writeFully(1);
                                echoed.incrementAndGet();
                            }
                        } catch (IOException closed) {
                            // end of test
                        }
                    });
                }
            } catch (IOException closed) {
                // end of test
            }
        });
        out("READY rss0=" + rss0 + " fdLimit=" + openFileLimit());
        int k = Integer.parseInt(command("SETTLE", maxSeconds).substring(6).trim());
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETTLE_SECONDS);
        while ((accepted.get() < k || reading.get() < accepted.get()) && System.nanoTime() < end) Thread.sleep(10);
        Thread.sleep(500); // let them reach the blocking read
        out(String.format(Locale.ROOT, "SETTLED accepted=%d readersStarted=%d carriers=%d rss0=%d rss1=%d fds=%d",
                accepted.get(), reading.get(), ManyConnections.carriers(), rss0, rssBytes(), openFiles()));
        command("REPORT", maxSeconds);
        out("REPORT echoed=" + echoed.get());
    }

    static void client(Transport t, Path sock, int n, long maxSeconds) throws Exception {
        checkDescriptors(n);
        long rss0 = rssBytes();
        // Connected from a platform thread, so setup does not depend on the virtual-thread scheduler.
        List<Transport.Conn> clients = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger connectErrors = new AtomicInteger();
        long connectEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(CONNECT_PHASE_SECONDS);
        Thread connector = Thread.ofPlatform().daemon().name("connect").start(() -> {
            while (clients.size() < n && System.nanoTime() < connectEnd) {
                try {
                    clients.add(t.connect(sock, 1));
                } catch (IOException e) {
                    if (connectErrors.incrementAndGet() == 1) out("first connect error: " + Main.oneLine(e.toString()));
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException stop) {
                        return;
                    }
                }
            }
        });
        connector.join(TimeUnit.SECONDS.toMillis(CONNECT_PHASE_SECONDS + 5));
        List<Transport.Conn> conns;
        synchronized (clients) {
            conns = List.copyOf(clients);
        }
        int connected = conns.size();

        Thread.sleep(500); // let the server's readers reach their blocking read
        out(String.format(Locale.ROOT, "SETTLED n=%d connected=%d connectErrors=%d rss0=%d rss1=%d fds=%d",
                n, connected, connectErrors.get(), rss0, rssBytes(), openFiles()));

        String[] w = command("WAKE", maxSeconds).split("\\s+");
        int rounds = Integer.parseInt(w[1]);
        double wakeTimeout = Double.parseDouble(w[2]);
        // The probe: one platform thread writes a byte on an idle connection and reads the echo back
        // (a connection is used by one thread at a time: the adapters' one buffer is shared by read
        // and write). It is stuck for good if the server's reader never wakes, hence its own thread.
        BlockingQueue<Integer> probes = new LinkedBlockingQueue<>();
        BlockingQueue<long[]> answers = new LinkedBlockingQueue<>();
        // The warm-up on connection 0, on its own platform thread: with a peer whose blocked readers
        // pin the carriers, connection 0's reader may never run, and the probes must still give their
        // verdict on the other connections.
        CountDownLatch warmedUp = new CountDownLatch(1);
        if (connected > 1) {
            Thread.ofPlatform().daemon().name("warm-up").start(() -> {
                try {
                    Transport.Conn first = conns.get(0);
                    for (int k = 0; k < WARMUP_ROUND_TRIPS; k++) {
                        first.writeFully(1);
                        if (first.read(1) <= 0) return;
                    }
                    warmedUp.countDown();
                } catch (IOException e) {
                    out("warm-up failed: " + Main.oneLine(e.toString()));
                }
            });
        }
        Thread.ofPlatform().daemon().name("probe").start(() -> {
            try {
                while (true) {
                    int i = probes.take();
                    Transport.Conn c = conns.get(i);
                    long s = System.nanoTime();
                    c.writeFully(1);
                    if (c.read(1) <= 0) throw new IOException("end of stream on connection " + i);
                    answers.add(new long[] {i, System.nanoTime() - s});
                }
            } catch (IOException | InterruptedException e) {
                answers.add(new long[] {-1, 0});
                out("probe failed: " + Main.oneLine(e.toString()));
            }
        });
        double[] lat = new double[rounds];
        int wokeCount = 0;
        String note = "";
        boolean warm = warmedUp.await(WARMUP_SECONDS, TimeUnit.SECONDS);
        for (int r = 0; r < rounds && connected > 1; r++) {
            Thread.sleep(100);
            // Spread over connections 1..connected-1: not only the first readers, never the warm-up's.
            int i = 1 + (int) ((long) (r + 1) * (connected - 1) / (rounds + 1));
            probes.add(i);
            long[] got = answers.poll((long) (wakeTimeout * 1000), TimeUnit.MILLISECONDS);
            if (got == null || got[0] != i) {
                note = got == null ? "connection " + i + "'s reader did not wake within " + wakeTimeout + " s"
                        : "the probe failed on connection " + i;
                break;
            }
            lat[wokeCount++] = got[1] / 1e3;
        }
        if (connected < 2) note = "fewer than two connections (one warms up, the others are probed)";
        if (!warm && connected > 1) {
            String cold = "the warm-up (" + WARMUP_ROUND_TRIPS + " round trips on connection 0) did not finish within "
                    + WARMUP_SECONDS + " s";
            note = note.isEmpty() ? cold : note + "; " + cold;
        }
        double[] sorted = Arrays.copyOf(lat, wokeCount);
        Arrays.sort(sorted);
        double median = sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
        double max = sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
        out(String.format(Locale.ROOT, "WOKE woke=%b wakes=%d/%d wakeMedianUs=%.1f wakeMaxUs=%.1f warmup=%d note=%s",
                wokeCount == rounds, wokeCount, rounds, median, max, warm ? WARMUP_ROUND_TRIPS : 0, note.replace(' ', '_')));
    }

    /** Fails early, with the limit in the message, if this process may not open N connections and its slack. */
    static void checkDescriptors(int n) throws IOException {
        long limit = openFileLimit();
        if (limit >= 0 && limit < (long) n + FD_SLACK) {
            throw new IOException("needs about " + (n + FD_SLACK) + " descriptors but the open-file limit is " + limit
                    + " (ulimit -n; the JVM raises its soft limit to the hard one on its own)");
        }
    }

    /** This process's open-file soft limit (Linux {@code /proc/self/limits}; the JVM has raised it to the hard one), or -1. */
    static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    /** How many descriptors this process has open (Linux {@code /proc/self/fd}), or -1. */
    static long openFiles() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** This process's resident set in bytes (Linux {@code /proc/self/status}), or -1. */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }
}

package io.panapipe.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Idle behaviour, in its own JVM: N connections whose client ends are read by N virtual threads
 * while nothing is sent. Measures the process CPU time used over the idle window, then whether
 * one more virtual-thread reader still wakes when a byte arrives (N is far above 4x the carrier
 * count), and how fast. Connections are made from a platform thread, so setup does not depend on
 * the virtual-thread scheduler; every wait is bounded.
 *
 * <pre>  PEER N IDLE_SECONDS WAKE_TIMEOUT_SECONDS      prints one RESULT line with key=value pairs</pre>
 */
public final class IdleHarness {
    private IdleHarness() {}

    public static void main(String[] args) {
        try {
            run(Peers.of(args[0]), Integer.parseInt(args[1]), Double.parseDouble(args[2]), Double.parseDouble(args[3]));
        } catch (Throwable e) {
            System.out.println("RESULT error=" + Main.oneLine(e.toString()));
        }
        System.out.flush();
        Runtime.getRuntime().halt(0); // pinned readers must not keep the JVM alive
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

    static void run(Transport t, int n, double idleSeconds, double wakeTimeout) throws Exception {
        long rss0 = rssBytes(); // before the peer's first connection: its engine starts lazily
        Path dir = Files.createTempDirectory("ppb-idle");
        Path sock = dir.resolve("s.sock");
        Transport.Server server = t.bind(sock);
        List<Transport.Conn> remotes = new ArrayList<>();
        List<Transport.Conn> clients = new ArrayList<>();
        List<java.io.Closeable> cleanup = new ArrayList<>();
        try {
            CompletableFuture<Void> acceptedAll = new CompletableFuture<>();
            Thread.ofPlatform().daemon().name("accept").start(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        Transport.Conn c = server.accept(1);
                        synchronized (remotes) {
                            remotes.add(c);
                        }
                    }
                    acceptedAll.complete(null);
                } catch (Throwable e) {
                    acceptedAll.completeExceptionally(e);
                }
            });
            for (int i = 0; i < n; i++) clients.add(t.connect(sock, 1));
            acceptedAll.get(30, TimeUnit.SECONDS);

            // The idle readers.
            AtomicInteger reading = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                Transport.Conn c = clients.get(i);
                Thread.ofVirtual().start(() -> {
                    reading.incrementAndGet();
                    try {
                        c.read(1);
                    } catch (IOException closed) {
                        // end of test
                    }
                });
            }
            long settleEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (reading.get() < n && System.nanoTime() < settleEnd) Thread.sleep(10);
            int started = reading.get();
            Thread.sleep(500); // let them reach the blocking read
            // Memory an idle connection costs: resident set growth over both ends, the reader's
            // virtual thread and the Java heap included (an upper bound on the native part).
            long rss1 = rssBytes();
            long rssPerConn = rss0 < 0 || rss1 < 0 ? -1 : (rss1 - rss0) / n;

            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            long w0 = System.nanoTime();
            Thread.sleep((long) (idleSeconds * 1000));
            long cpu1 = os.getProcessCpuTime();
            long w1 = System.nanoTime();
            double cpuMs = (cpu1 - cpu0) / 1e6;
            double cpuPct = 100.0 * (cpu1 - cpu0) / (w1 - w0);

            // The active reader: one more connection (its own socket), read by a virtual thread that
            // reports when each byte arrives; the writer is this platform thread.
            Link link = Link.open(t, 1);
            SynchronousQueue<Long> woke = new SynchronousQueue<>();
            Thread.ofVirtual().start(() -> {
                try {
                    while (link.client.read(1) >= 0) woke.offer(System.nanoTime(), 60, TimeUnit.SECONDS);
                } catch (IOException | InterruptedException closed) {
                    // end of test
                }
            });
            int rounds = 5;
            double[] lat = new double[rounds];
            int wokeCount = 0;
            String note = "";
            for (int r = 0; r < rounds; r++) {
                Thread.sleep(100);
                long s = System.nanoTime();
                link.remote.writeFully(1);
                Long at = woke.poll((long) (wakeTimeout * 1000), TimeUnit.MILLISECONDS);
                if (at == null) {
                    note = "did not wake within " + wakeTimeout + " s";
                    break;
                }
                lat[wokeCount++] = (at - s) / 1e3;
            }
            double[] got = Arrays.copyOf(lat, wokeCount);
            Arrays.sort(got);
            double median = got.length == 0 ? Double.NaN : got[got.length / 2];
            double max = got.length == 0 ? Double.NaN : got[got.length - 1];
            System.out.println(String.format(Locale.ROOT,
                    "RESULT n=%d readersStarted=%d carriers=%d idleSeconds=%.2f cpuMs=%.1f cpuPct=%.2f "
                            + "woke=%b wakes=%d/%d wakeMedianUs=%.1f wakeMaxUs=%.1f rssPerConnBytes=%d note=%s",
                    n, started, ManyConnections.carriers(), (w1 - w0) / 1e9, cpuMs, cpuPct,
                    wokeCount == rounds, wokeCount, rounds, median, max, rssPerConn, note.replace(' ', '_')));
            System.out.flush();
            cleanup.add(link);
        } finally {
            // Closing may block behind a pinned native read: do it on a daemon thread, bounded.
            cleanup.addAll(clients);
            synchronized (remotes) {
                cleanup.addAll(remotes);
            }
            cleanup.add(server);
            Thread c = Thread.ofPlatform().daemon().start(() -> cleanup.forEach(Link::closeQuietly));
            c.join(3000);
            Link.deleteTree(dir);
        }
    }
}

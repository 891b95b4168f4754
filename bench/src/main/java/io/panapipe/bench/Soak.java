package io.panapipe.bench;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.PipeTimeoutException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A bounded soak of one engine per child JVM (issue 12's "Tests" section):
 *
 * <ol>
 * <li>{@code CYCLES} connect / 64 B echo / close cycles against one server in the same JVM, with
 *     open descriptors, threads, RSS and native memory (NMT, committed) before and after;
 * <li>{@code RACES} races of close, interrupt and timeout against reads and writes, with every
 *     byte accounted for: a reader that times out or races a timed-out writer still ends with
 *     exactly the bytes the writer reports, in order; a read ended by close or interrupt has
 *     received only a correct prefix;
 * <li>a peer process SIGSTOPped for 5 s during reads with a 1 s timeout: each read times out on
 *     time, and after SIGCONT the pipe delivers everything.
 * </ol>
 *
 * <pre>
 *   panapipe-bench soak [ENGINE ...] [--cycles N] [--races N] [--seconds S]
 * </pre>
 * Every phase stops at its count or at {@code S} seconds (default 240 per engine), whichever comes
 * first, and says which.
 */
final class Soak {
    private Soak() {
    }

    static void main(List<String> args) throws Exception {
        List<String> engines = new ArrayList<>();
        long cycles = 100_000;
        long races = 10_000;
        long seconds = 240;
        for (int i = 0; i < args.size(); i++) {
            switch (args.get(i)) {
                case "--cycles" -> cycles = Long.parseLong(args.get(++i));
                case "--races" -> races = Long.parseLong(args.get(++i));
                case "--seconds" -> seconds = Long.parseLong(args.get(++i));
                default -> engines.add(args.get(i));
            }
        }
        if (engines.isEmpty()) {
            engines = List.of("epoll", "io_uring", "nio");
        }
        for (String engine : engines) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-XX:NativeMemoryTracking=summary", "-Xmx512m",
                    "-Dpanapipe.engine=" + engine, "-cp", System.getProperty("java.class.path"),
                    Soak.class.getName(), "child", Long.toString(cycles), Long.toString(races), Long.toString(seconds)));
            System.out.println("== soak, engine " + engine);
            Process p = new ProcessBuilder(cmd).inheritIO().start();
            if (!p.waitFor(seconds * 3 + 60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                System.out.println("FAILED: the soak child did not finish in time");
            } else if (p.exitValue() != 0) {
                System.out.println("FAILED: exit " + p.exitValue());
            }
        }
    }

    /** In the child JVM: {@code child CYCLES RACES SECONDS}, or {@code peer SOCKET} (the SIGSTOP peer). */
    public static void main(String[] args) throws Exception {
        if (args[0].equals("peer")) {
            peer(Path.of(args[1]));
            return;
        }
        long cycles = Long.parseLong(args[1]);
        long races = Long.parseLong(args[2]);
        long seconds = Long.parseLong(args[3]);
        Path dir = Files.createTempDirectory("ppsoak");
        boolean ok = true;
        try {
            ok &= cycles(dir.resolve("c.sock"), cycles, seconds);
            ok &= races(dir.resolve("r.sock"), races, seconds);
            ok &= stopped(dir.resolve("s.sock"));
        } finally {
            Link.deleteTree(dir);
        }
        System.out.println(ok ? "soak: all phases passed" : "soak: FAILED (see above)");
        System.out.flush();
        Runtime.getRuntime().halt(ok ? 0 : 1);
    }

    // ---- phase 1: connect / echo / close ----

    private static boolean cycles(Path sock, long cycles, long seconds) throws Exception {
        PipeName name = PipeName.ofSocketPath(sock);
        try (PipeServer server = PipeServer.bind(name, PipeOptions.defaults().withAcceptBacklog(256))) {
            Thread acceptor = Thread.ofVirtual().start(() -> {
                while (true) {
                    Pipe p;
                    try {
                        p = server.accept();
                    } catch (IOException e) {
                        return; // closed
                    }
                    Thread.ofVirtual().start(() -> echo(p));
                }
            });
            int workers = 4;
            long warm = Math.min(1_000, cycles);
            run(name, warm, workers, Long.MAX_VALUE);
            System.gc();
            Thread.sleep(500);
            Snapshot before = Snapshot.take();
            long t0 = System.nanoTime();
            long done = run(name, cycles, workers, t0 + TimeUnit.SECONDS.toNanos(seconds));
            double took = (System.nanoTime() - t0) / 1e9;
            System.gc();
            Thread.sleep(1_000);
            Snapshot after = Snapshot.take();
            System.out.printf("cycles: %,d of %,d connect/echo/close cycles in %.1f s%s%n", done, cycles, took,
                    done < cycles ? " (stopped at the time limit)" : "");
            System.out.println("  before: " + before);
            System.out.println("  after:  " + after);
            server.close();
            acceptor.join(5_000);
            boolean ok = after.fds <= before.fds + 2 && after.threads <= before.threads + 4;
            System.out.println(ok ? "  fds and threads back to their level: ok"
                    : "  FAILED: descriptors or threads grew");
            return ok;
        }
    }

    private static long run(PipeName name, long cycles, int workers, long deadline) throws Exception {
        AtomicLong next = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(64);
                    while (next.getAndIncrement() < cycles && System.nanoTime() < deadline && failure.get() == null) {
                        try (Pipe p = PipeClient.connect(name, Duration.ofSeconds(10))) {
                            p.write(buf);
                            int got = 0;
                            while (got < 64) {
                                int n = p.read(buf.asSlice(got), Duration.ofSeconds(10));
                                if (n < 0) {
                                    throw new IOException("end of stream after " + got);
                                }
                                got += n;
                            }
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IOException("cycle failed", failure.get());
        }
        return Math.min(next.get() - workers, cycles);
    }

    private static void echo(Pipe p) {
        try (p; Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            for (int n; (n = p.read(buf)) >= 0; ) {
                p.write(buf.asSlice(0, n));
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    private record Snapshot(int fds, int threads, long rssKb, long nmtCommittedKb) {
        static Snapshot take() throws Exception {
            int fds;
            try (var s = Files.list(Path.of("/proc/self/fd"))) {
                fds = (int) s.count();
            }
            long rss = 0;
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) {
                    rss = Long.parseLong(l.replaceAll("\\D+", ""));
                }
            }
            return new Snapshot(fds, ManagementFactory.getThreadMXBean().getThreadCount(), rss, nmtCommitted());
        }

        /** {@code Total: reserved=..KB, committed=..KB} from NMT's summary (-1 without NMT). */
        private static long nmtCommitted() {
            try {
                Object out = ManagementFactory.getPlatformMBeanServer().invoke(
                        new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                        new Object[] {new String[] {"summary", "scale=KB"}}, new String[] {String[].class.getName()});
                var m = java.util.regex.Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB").matcher(out.toString());
                return m.find() ? Long.parseLong(m.group(2)) : -1;
            } catch (Exception e) {
                return -1;
            }
        }

        @Override
        public String toString() {
            return String.format("fds=%d threads=%d rss=%,d KB nmt.committed=%,d KB", fds, threads, rssKb, nmtCommittedKb);
        }
    }

    // ---- phase 2: close / interrupt / timeout races, every byte accounted for ----

    private static boolean races(Path sock, long races, long seconds) throws Exception {
        PipeName name = PipeName.ofSocketPath(sock);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long[] outcomes = new long[4]; // timeout-read, timeout-write, close, interrupt
        long bytes = 0;
        long done = 0;
        String failure = null;
        try (PipeServer server = PipeServer.bind(name); Arena arena = Arena.ofShared()) {
            MemorySegment out = arena.allocate(1 << 16);
            for (int i = 0; i < out.byteSize(); i++) {
                out.set(ValueLayout.JAVA_BYTE, i, (byte) (i % 251));
            }
            for (; done < races && System.nanoTime() < deadline && failure == null; done++) {
                int kind = (int) (done % 4);
                Thread.ofVirtual().start(() -> { }).join(); // keep the scheduler honest between rounds
                var accepted = new java.util.concurrent.CompletableFuture<Pipe>();
                Thread.ofVirtual().start(() -> {
                    try {
                        accepted.complete(server.accept(Duration.ofSeconds(10)));
                    } catch (Throwable t) {
                        accepted.completeExceptionally(t);
                    }
                });
                try (Pipe writer = PipeClient.connect(name, Duration.ofSeconds(10));
                     Pipe reader = accepted.get(10, TimeUnit.SECONDS)) {
                    long[] r = round(kind, writer, reader, out);
                    if (r[0] < 0) {
                        failure = "round " + done + " (" + kindName(kind) + "): " + (r[1] == -2 ? "bytes out of order"
                                : "received " + r[2] + " of " + r[1] + " bytes");
                    } else {
                        outcomes[kind]++;
                        bytes += r[1];
                    }
                }
            }
        }
        System.out.printf("races: %,d of %,d rounds%s (timeout-read %,d, timeout-write %,d, close %,d, interrupt %,d), "
                        + "%,d bytes accounted for%n", done, races, done < races && failure == null ? " (time limit)" : "",
                outcomes[0], outcomes[1], outcomes[2], outcomes[3], bytes);
        if (failure != null) {
            System.out.println("  FAILED: " + failure);
        }
        return failure == null;
    }

    private static String kindName(int kind) {
        return switch (kind) {
            case 0 -> "timeout-read";
            case 1 -> "timeout-write";
            case 2 -> "close";
            default -> "interrupt";
        };
    }

    /**
     * One race. Returns {ok(0)/fail(-1), bytes sent (or -2 for disorder), bytes received}.
     * The writer's bytes are {@code i % 251} of a running index, so order and loss are both checked.
     */
    private static long[] round(int kind, Pipe writer, Pipe reader, MemorySegment out) throws Exception {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        AtomicLong sent = new AtomicLong();
        AtomicLong received = new AtomicLong();
        AtomicReference<String> disorder = new AtomicReference<>();
        int total = 1 + rnd.nextInt(200_000);
        boolean timedWrite = kind == 1;
        Thread w = Thread.ofVirtual().start(() -> {
            long off = 0;
            try {
                while (off < total) {
                    int n = (int) Math.min(total - off, 1 + rnd.nextInt(8192));
                    long start = off % 251;
                    // a window of the pattern that starts with (off % 251)
                    MemorySegment piece = out.asSlice(start, n);
                    if (timedWrite) {
                        try {
                            writer.write(piece, Duration.ofNanos(rnd.nextInt(200_000)));
                            off += n;
                        } catch (PipeTimeoutException e) {
                            off += e.bytesTransferred; // what did go out, and nothing more
                        }
                    } else {
                        writer.write(piece);
                        off += n;
                    }
                }
            } catch (IOException e) {
                // the reader closed: what went out is counted below
            } finally {
                sent.set(off);
            }
        });
        Thread r = Thread.ofVirtual().start(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(4096);
                long got = 0;
                while (true) {
                    int n;
                    if (kind == 0) {
                        try {
                            n = reader.read(buf, Duration.ofNanos(rnd.nextInt(100_000)));
                        } catch (PipeTimeoutException e) {
                            continue;
                        }
                    } else {
                        n = reader.read(buf);
                    }
                    if (n < 0) {
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        if (buf.get(ValueLayout.JAVA_BYTE, i) != (byte) ((got + i) % 251)) {
                            disorder.compareAndSet(null, "at byte " + (got + i));
                        }
                    }
                    got += n;
                    received.set(got);
                }
            } catch (java.nio.channels.ClosedChannelException e) {
                // close or interrupt (AsynchronousCloseException, ClosedByInterruptException), perhaps
                // before the first read: a prefix arrived
            } catch (IOException e) {
                disorder.compareAndSet(null, e.toString());
            }
        });
        boolean disrupted = kind >= 2;
        if (disrupted) {
            Thread.sleep(0, rnd.nextInt(500_000));
            if (kind == 2) {
                reader.close();
            } else {
                r.interrupt();
            }
        }
        w.join();
        if (!disrupted) {
            writer.close(); // end of stream: the reader drains everything, then sees -1
        }
        r.join();
        if (disrupted) {
            reader.close();
        }
        if (disorder.get() != null) {
            return new long[] {-1, -2, received.get()};
        }
        boolean ok = disrupted ? received.get() <= sent.get() : received.get() == sent.get();
        return new long[] {ok ? 0 : -1, sent.get(), received.get()};
    }

    // ---- phase 3: a SIGSTOPped peer during timed reads ----

    private static boolean stopped(Path sock) throws Exception {
        PipeName name = PipeName.ofSocketPath(sock);
        try (PipeServer server = PipeServer.bind(name); Arena arena = Arena.ofConfined()) {
            Process peer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Dpanapipe.engine=" + System.getProperty("panapipe.engine"),
                    "-cp", System.getProperty("java.class.path"), Soak.class.getName(), "peer", sock.toString())
                    .inheritIO().start();
            try (Pipe p = server.accept(Duration.ofSeconds(30))) {
                MemorySegment buf = arena.allocate(64);
                p.write(buf);
                if (p.read(buf, Duration.ofSeconds(10)) <= 0) {
                    throw new IOException("no echo before the stop");
                }
                signal("STOP", peer.pid());
                p.write(buf); // sits in the peer's receive queue while it is stopped
                int timeouts = 0;
                long worst = 0;
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5)) {
                    long s = System.nanoTime();
                    try {
                        p.read(buf, Duration.ofSeconds(1));
                        System.out.println("sigstop: FAILED, a stopped peer answered");
                        return false;
                    } catch (PipeTimeoutException e) {
                        timeouts++;
                        worst = Math.max(worst, System.nanoTime() - s);
                    }
                }
                signal("CONT", peer.pid());
                int got = 0;
                while (got < 64) {
                    int n = p.read(buf.asSlice(got), Duration.ofSeconds(10));
                    if (n < 0) {
                        throw new IOException("end of stream after the stop");
                    }
                    got += n;
                }
                boolean ok = timeouts >= 4 && worst < TimeUnit.MILLISECONDS.toNanos(1_500);
                System.out.printf("sigstop: peer stopped 5 s: %d reads timed out after at most %.0f ms each; "
                        + "after SIGCONT the 64-byte echo arrived%s%n", timeouts, worst / 1e6, ok ? "" : "  FAILED");
                return ok;
            } finally {
                peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IOException("kill -" + sig + " " + pid + " failed");
        }
    }

    private static void peer(Path sock) throws Exception {
        try (Pipe p = PipeClient.connect(PipeName.ofSocketPath(sock), Duration.ofSeconds(30))) {
            echo(p);
        }
        Runtime.getRuntime().halt(0);
    }
}

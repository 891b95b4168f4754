package io.panapipe.bench;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * One connected client/server pair of a peer, on a socket in a fresh temporary directory that is
 * deleted on {@link #close()}; plus the helper threads the benchmarks run on the far end.
 */
public final class Link implements Closeable {
    public final Path dir;
    public final Transport.Server server;
    public final Transport.Conn client;
    public final Transport.Conn remote;
    private volatile Thread helper;

    private Link(Path dir, Transport.Server server, Transport.Conn client, Transport.Conn remote) {
        this.dir = dir;
        this.server = server;
        this.client = client;
        this.remote = remote;
    }

    /** Binds, connects and accepts (accept runs on its own thread, bounded to 10 s). */
    public static Link open(Transport t, int bufferSize) throws IOException {
        Path dir = Files.createTempDirectory("ppb");
        Path sock = dir.resolve("s.sock");
        Transport.Server server = t.bind(sock);
        CompletableFuture<Transport.Conn> accepted = new CompletableFuture<>();
        Thread acceptor = Thread.ofPlatform().daemon().name("accept").start(() -> {
            try {
                accepted.complete(server.accept(bufferSize));
            } catch (Throwable e) {
                accepted.completeExceptionally(e);
            }
        });
        Transport.Conn client = null;
        try {
            client = t.connect(sock, bufferSize);
            Transport.Conn remote = accepted.get(10, TimeUnit.SECONDS);
            return new Link(dir, server, client, remote);
        } catch (InterruptedException | ExecutionException | TimeoutException | IOException | RuntimeException e) {
            closeQuietly(client);
            closeQuietly(server);
            acceptor.interrupt();
            deleteTree(dir);
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IOException(t.name() + ": could not connect a pair: " + e, e);
        }
    }

    /** Starts a thread of the given kind ("platform" or "virtual"). */
    public static Thread start(String threads, String name, Runnable r) {
        return switch (threads) {
            case "platform" -> Thread.ofPlatform().daemon().name(name).start(r);
            case "virtual" -> Thread.ofVirtual().name(name).start(r);
            default -> throw new IllegalArgumentException("threads must be platform or virtual, not " + threads);
        };
    }

    /** On the far end, echoes {@code size}-byte messages until end of stream. */
    public void startEcho(String threads, int size) {
        helper = start(threads, "echo", () -> {
            try {
                while (true) {
                    remote.readFully(size);
                    remote.writeFully(size);
                }
            } catch (IOException endOfStreamOrClosed) {
                // the benchmark is over
            }
        });
    }

    /** On the far end, reads and discards until end of stream. */
    public void startSink(String threads, int chunk) {
        helper = start(threads, "sink", () -> {
            try {
                while (remote.read(chunk) >= 0) { /* discard */ }
            } catch (IOException closed) {
                // the benchmark is over
            }
        });
    }

    /**
     * Runs {@code body} on a new virtual thread and waits for it at most {@code limit}; exceptions
     * thrown by the body are rethrown here. Used to put a measured loop on a virtual thread.
     */
    public static void onVirtualThread(IoRunnable body, Duration limit) throws Exception {
        Throwable[] failure = new Throwable[1];
        Thread t = Thread.ofVirtual().name("measured").start(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        if (!t.join(limit)) {
            throw new TimeoutException("the measured loop on a virtual thread did not finish within " + limit);
        }
        if (failure[0] instanceof Exception e) throw e;
        if (failure[0] instanceof Error e) throw e;
    }

    /**
     * A long-lived virtual thread that runs one fixed body each time {@link #runOnce} asks, so a
     * measured loop runs on a virtual thread without the harness starting (and allocating) a new
     * thread per JMH invocation: the hand-off is two {@code unpark}s and volatile flags, nothing
     * else. What {@code gc.alloc.rate.norm} then shows for {@code threads=virtual} is the peer's
     * own allocation (plus the JDK's for parking and unparking a virtual thread), not the
     * harness's. {@link #close()} ends the thread.
     */
    public static final class VirtualWorker implements Closeable {
        private final IoRunnable body;
        private final Thread thread;
        private volatile Thread caller;
        private volatile boolean requested;
        private volatile boolean done;
        private volatile boolean closed;
        private volatile Throwable failure;

        public VirtualWorker(String name, IoRunnable body) {
            this.body = body;
            this.thread = Thread.ofVirtual().name(name).start(this::loop);
        }

        private void loop() {
            while (true) {
                while (!requested) {
                    if (closed) return;
                    LockSupport.park(this);
                }
                requested = false;
                try {
                    body.run();
                } catch (Throwable e) {
                    failure = e;
                }
                done = true;
                LockSupport.unpark(caller);
            }
        }

        /** Runs the body once on the worker's virtual thread and waits at most {@code limit}; rethrows its failure. */
        public void runOnce(Duration limit) throws Exception {
            if (closed) throw new IllegalStateException("closed");
            failure = null;
            done = false;
            caller = Thread.currentThread();
            requested = true;
            LockSupport.unpark(thread);
            long deadline = System.nanoTime() + limit.toNanos();
            while (!done) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException("the measured loop on a virtual thread did not finish within " + limit);
                }
                LockSupport.parkNanos(this, left);
            }
            Throwable f = failure;
            if (f instanceof Exception e) throw e;
            if (f instanceof Error e) throw e;
        }

        /** Ends the worker once it is idle (a body still running finishes first). */
        @Override public void close() {
            closed = true;
            LockSupport.unpark(thread);
        }
    }

    /** A body that may throw an {@link IOException}. */
    @FunctionalInterface
    public interface IoRunnable {
        void run() throws IOException;
    }

    @Override public void close() {
        try {
            client.shutdownOutput();
        } catch (IOException | RuntimeException ignored) {
            // already closed
        }
        Thread h = helper;
        if (h != null) {
            try {
                h.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeQuietly(client);
        closeQuietly(remote);
        closeQuietly(server);
        deleteTree(dir);
    }

    static void closeQuietly(Closeable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException | RuntimeException ignored) {
            // best effort
        }
    }

    static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: it is a temp dir
        }
    }
}

package io.panapipe;

import io.panapipe.internal.Engines;
import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Timeouts;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.unix.InstanceLimit;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bound pipe name that accepts connections.
 *
 * <pre>{@code
 * try (PipeServer server = PipeServer.bind(PipeName.of("echo"))) {
 *     while (true) {
 *         Pipe pipe = server.accept();
 *         Thread.ofVirtual().start(() -> {
 *             try (pipe; Arena arena = Arena.ofConfined()) {
 *                 MemorySegment buf = arena.allocate(4096);
 *                 for (int n; (n = pipe.read(buf)) >= 0; ) {
 *                     pipe.write(buf.asSlice(0, n));
 *                 }
 *             } catch (IOException e) {
 *                 // the client went away
 *             }
 *         });
 *     }
 * }
 * }</pre>
 *
 * <p>Windows: the server keeps at least one pipe instance listening at all times (the first one
 * created with {@code FILE_FLAG_FIRST_PIPE_INSTANCE}, so nobody else can take the name) and a
 * backlog of {@link PipeOptions#acceptBacklog()} instances waiting for clients. Unix: a listening
 * socket in the name's private directory; a stale socket file of a dead server is replaced, a
 * live server's never is. The server holds a lock file beside the socket ({@code .<name>.lock})
 * for its life, so two servers racing for one name cannot both win; the socket file appears with
 * its final mode, and {@link #close()} removes it only if it is still this server's.
 *
 * <p>{@link PipeOptions#withMaxInstances maxInstances} below the unlimited default bounds the
 * connections this server has handed out and not yet closed: on Unix, {@code accept} then waits
 * (within its timeout) for one of them to close, and new clients queue in the backlog and then
 * retry, as Windows clients retry a server whose instances are all busy.
 *
 * <p>Out of descriptors ({@code EMFILE}/{@code ENFILE}) on Unix, {@code accept} does not fail at
 * once (the client stays queued, so a retry loop would spin): it backs off and retries until its
 * deadline, or for up to one second when it has none, then throws the {@code EMFILE}
 * {@link PipeException}.
 *
 * <p>{@link #close()} wakes a thread blocked in {@link #accept()} promptly (it throws
 * {@link java.nio.channels.AsynchronousCloseException}); connections already accepted stay open.
 *
 * @since 0.1
 */
public final class PipeServer implements Closeable {
    private final ServerEndpoint endpoint;
    private final IoGate gate;
    private final PipeName name;
    private final PipeOptions options;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final ReentrantLock closeLock = new ReentrantLock();
    /** Unix: {@code maxInstances} enforced here (Windows' kernel enforces its own); null when unlimited. */
    private final InstanceLimit instances;

    private PipeServer(ServerEndpoint endpoint, PipeName name, PipeOptions options) {
        this.endpoint = endpoint;
        this.gate = endpoint.gate();
        this.name = name;
        this.options = options;
        this.instances = !name.isWindowsPath() && options.maxInstances() < PipeOptions.UNLIMITED_INSTANCES
                ? new InstanceLimit(options.maxInstances()) : null;
    }

    /**
     * Binds with {@link PipeOptions#defaults()}.
     *
     * @param name the pipe to serve
     * @return the bound server
     * @throws IOException if a live server already holds the name, or another OS error
     */
    public static PipeServer bind(PipeName name) throws IOException {
        return bind(name, PipeOptions.defaults());
    }

    /**
     * Binds a server to {@code name}.
     *
     * @param name the pipe to serve
     * @param options mode, security, instances, backlog, buffer sizes
     * @return the bound server
     * @throws PipeException if a live server already holds the name (Windows {@code ERROR_ACCESS_DENIED}
     *         or {@code ERROR_PIPE_BUSY} on the first instance; Unix {@code EADDRINUSE}), or another OS error
     */
    public static PipeServer bind(PipeName name, PipeOptions options) throws IOException {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(options, "options");
        return new PipeServer(Engines.get().bind(name, options), name, options);
    }

    /**
     * Waits as long as it takes for the next client.
     *
     * @return the connection to that client
     * @throws IOException if the server is closed meanwhile
     *         ({@link java.nio.channels.AsynchronousCloseException}), the thread is interrupted
     *         ({@link java.nio.channels.ClosedByInterruptException}; the server is closed), or an
     *         OS error
     */
    public Pipe accept() throws IOException {
        return accept(Operation.NO_TIMEOUT);
    }

    /**
     * Waits at most {@code timeout} for the next client.
     *
     * @param timeout how long to wait
     * @return the connection to that client
     * @throws PipeTimeoutException if none came; the server stays usable
     */
    public Pipe accept(Duration timeout) throws IOException {
        return accept(Timeouts.toNanos(timeout, "timeout"));
    }

    private Pipe accept(long timeoutNanos) throws IOException {
        acceptLock.lock();
        try {
            gate.enter();
            Transport transport;
            try {
                if (Thread.currentThread().isInterrupted()) {
                    throw new ClosedByInterruptException();
                }
                if (instances == null) {
                    transport = endpoint.accept(timeoutNanos);
                } else {
                    long start = System.nanoTime();
                    instances.acquire(timeoutNanos, gate);
                    try {
                        long left = timeoutNanos < 0 ? timeoutNanos : Math.max(0, timeoutNanos - (System.nanoTime() - start));
                        transport = endpoint.accept(left);
                    } catch (IOException | RuntimeException e) {
                        instances.release();
                        throw e;
                    }
                }
            } finally {
                gate.exit();
            }
            // With an instance limit, the connection's slot comes back when its pipe is closed.
            Runnable afterClose = instances == null ? PipeChannel.NOTHING : instances::release;
            return new Pipe(new PipeChannel(transport, options.mode(), options.heapBufferSize(), afterClose), name);
        } catch (ClosedByInterruptException e) {
            close(); // as the JDK's ServerSocketChannel: an interrupted accept closes the server
            throw e;
        } finally {
            acceptLock.unlock();
        }
    }

    /**
     * The name this server is bound to.
     *
     * @return the name
     */
    public PipeName name() {
        return name;
    }

    /**
     * The options this server was bound with.
     *
     * @return the options
     */
    public PipeOptions options() {
        return options;
    }

    /**
     * Whether the server is still open (not yet {@linkplain #close() closed}).
     *
     * @return {@code true} until {@link #close()} is called
     */
    public boolean isOpen() {
        return !gate.isClosing();
    }

    /**
     * Stops listening: a blocked {@link #accept} wakes with
     * {@link java.nio.channels.AsynchronousCloseException}, waiting instances are cancelled and
     * closed (Unix: the socket file is removed). Accepted pipes are not affected. Idempotent.
     */
    @Override
    public void close() throws IOException {
        closeLock.lock();
        try {
            if (!gate.startClose()) {
                return;
            }
            endpoint.wakeAll();
            if (instances != null) {
                instances.wake();
            }
            gate.awaitIdle();
            endpoint.release();
        } finally {
            closeLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "PipeServer[" + name + ", " + options.mode() + (isOpen() ? "" : ", closed") + "]";
    }
}

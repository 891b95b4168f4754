package io.panapipe;

import io.panapipe.internal.Engine;
import io.panapipe.internal.Engines;
import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.Timeouts;
import io.panapipe.internal.Transport;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.Objects;

/**
 * Opens connections to pipe servers.
 *
 * <pre>{@code
 * try (Pipe pipe = PipeClient.connect(PipeName.of("echo"), Duration.ofSeconds(5))) {
 *     pipe.outputStream().write("hello".getBytes(StandardCharsets.UTF_8));
 *     byte[] reply = new byte[5];
 *     pipe.inputStream().readNBytes(reply, 0, 5);
 * }
 * }</pre>
 *
 * <p>A server whose instances are all busy (Windows {@code ERROR_PIPE_BUSY}, Unix {@code EAGAIN}
 * on a full backlog) is retried with short sleeps — never by blocking a thread in the kernel — until
 * the deadline. A name nobody serves fails at once unless a timeout asks to wait for the server.
 */
public final class PipeClient {
    /** How long {@link #connect(PipeName)} retries a server whose instances are all busy. */
    public static final Duration DEFAULT_BUSY_WAIT = Duration.ofSeconds(5);

    private static final long MIN_RETRY_NANOS = 200_000;      // 0.2 ms
    private static final long MAX_RETRY_NANOS = 20_000_000;   // 20 ms

    private PipeClient() {
    }

    /**
     * Connects with {@link PipeOptions#defaults()}; fails at once if nobody serves the name, retries
     * busy instances for up to {@link #DEFAULT_BUSY_WAIT}.
     *
     * @param name the pipe to connect to
     * @return the connection
     * @throws PipeException with {@code ENOENT}/{@code ECONNREFUSED}/{@code ERROR_FILE_NOT_FOUND} if
     *         no server is there, or another OS error
     * @throws PipeTimeoutException if every instance stayed busy for {@link #DEFAULT_BUSY_WAIT}
     * @throws java.nio.channels.ClosedByInterruptException if the thread is interrupted meanwhile
     */
    public static Pipe connect(PipeName name) throws IOException {
        return connect(name, PipeOptions.defaults());
    }

    /**
     * As {@link #connect(PipeName)} with options (mode, impersonation level, server-user check).
     *
     * @param name the pipe to connect to
     * @param options the client's settings; the mode must match the server's
     * @return the connection
     * @throws IOException as {@link #connect(PipeName)}: no server, every instance busy for
     *         {@link #DEFAULT_BUSY_WAIT}, interrupt, or another OS error
     */
    public static Pipe connect(PipeName name, PipeOptions options) throws IOException {
        return connect(name, options, Timeouts.toNanos(DEFAULT_BUSY_WAIT, "timeout"), false);
    }

    /**
     * Connects, waiting up to {@code timeout} for the server to appear and for a free instance.
     *
     * @param name the pipe to connect to
     * @param timeout how long to wait for the server and a free instance
     * @return the connection
     * @throws PipeTimeoutException if the deadline passed first
     * @throws IllegalArgumentException if the timeout is negative or absurdly long
     */
    public static Pipe connect(PipeName name, Duration timeout) throws IOException {
        return connect(name, PipeOptions.defaults(), timeout);
    }

    /**
     * As {@link #connect(PipeName, Duration)} with options.
     *
     * @param name the pipe to connect to
     * @param options the client's settings; the mode must match the server's
     * @param timeout how long to wait for the server and a free instance
     * @return the connection
     * @throws IOException as {@link #connect(PipeName, Duration)}: the deadline passed, interrupt,
     *         or an OS error other than "no server yet" and "busy"
     */
    public static Pipe connect(PipeName name, PipeOptions options, Duration timeout) throws IOException {
        return connect(name, options, Timeouts.toNanos(timeout, "timeout"), true);
    }

    private static Pipe connect(PipeName name, PipeOptions options, long timeoutNanos, boolean waitForServer)
            throws IOException {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(options, "options");
        Engine engine = Engines.get();
        long deadline = System.nanoTime() + timeoutNanos;
        long pause = MIN_RETRY_NANOS;
        for (;;) {
            if (Thread.currentThread().isInterrupted()) {
                throw new ClosedByInterruptException();
            }
            PipeException failure;
            try {
                Transport transport = engine.connect(name, options);
                return new Pipe(new PipeChannel(transport, options.mode(), options.heapBufferSize()), name);
            } catch (PipeException e) {
                boolean retry = engine.isBusy(e) || (waitForServer && engine.isAbsent(e));
                if (!retry) {
                    throw e;
                }
                failure = e;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                PipeTimeoutException t = new PipeTimeoutException("could not connect to " + name.osPath()
                        + " within " + Duration.ofNanos(timeoutNanos) + ": " + failure.getMessage());
                t.initCause(failure);
                throw t;
            }
            try {
                Thread.sleep(Duration.ofNanos(Math.min(pause, left)));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new ClosedByInterruptException();
            }
            pause = Math.min(pause * 2, MAX_RETRY_NANOS);
        }
    }
}

package io.panapipe;

import io.panapipe.internal.Engine;
import io.panapipe.internal.Engines;

import java.util.Optional;

/**
 * The engine this JVM's pipes run on, and what it can do.
 *
 * <p>Panapipe picks one engine per JVM, on first use: {@code iocp} on Windows (named pipes on an
 * I/O completion port), {@code io_uring} on Linux when the kernel allows it, and {@code nio} (the
 * JDK's {@code SocketChannel} over AF_UNIX) elsewhere — for instance in a container whose seccomp
 * profile refuses {@code io_uring_setup}. The system property {@value #PROPERTY} forces one.
 * When the automatic choice falls back, {@link #fallbackReason()} says why, and the reason is
 * logged once (at {@code INFO}, through {@link System.Logger}).
 *
 * <pre>{@code
 * PipeEngine engine = PipeEngine.current();
 * if (!engine.supportsMessageMode()) {
 *     // e.g. fall back to length-prefixed frames in BYTE mode
 * }
 * System.out.println(engine);   // PipeEngine[io_uring, message mode, peer process id]
 * }</pre>
 *
 * @since 0.1
 */
public final class PipeEngine {
    /** The system property that forces an engine: {@value}. */
    public static final String PROPERTY = Engines.PROPERTY;

    private final Engine engine;
    private final String fallbackReason;

    private PipeEngine(Engine engine, String fallbackReason) {
        this.engine = engine;
        this.fallbackReason = fallbackReason;
    }

    /**
     * The engine of this JVM, chosen on first use.
     *
     * @return the running engine
     * @throws IllegalArgumentException if {@value #PROPERTY} names no engine; the message lists the
     *         allowed values
     * @throws IllegalStateException if {@value #PROPERTY} names an engine that cannot run here
     *         (for example {@code iocp} on Linux, or {@code io_uring} where the kernel refuses it)
     */
    public static PipeEngine current() {
        Engine engine = Engines.get();
        return new PipeEngine(engine, Engines.currentFallbackReason());
    }

    /**
     * The engine's short name: {@code iocp}, {@code io_uring} or {@code nio} (or another engine a
     * later version adds); the value {@value #PROPERTY} accepts.
     *
     * @return the name
     */
    public String name() {
        return engine.name();
    }

    /**
     * Whether {@link PipeMode#MESSAGE} works on this engine (Windows message pipes, Unix
     * {@code SOCK_SEQPACKET}). Without it, binding or connecting in MESSAGE mode throws
     * {@link UnsupportedOperationException}. The first call may ask the engine by binding a
     * throw-away server.
     *
     * @return whether MESSAGE mode is available
     */
    public boolean supportsMessageMode() {
        return engine.supportsMessageMode();
    }

    /**
     * Whether {@link Pipe#peerProcessId()} answers on this engine (Windows
     * {@code GetNamedPipeClientProcessId}, Unix {@code SO_PEERCRED}). The first call may ask the
     * engine over a throw-away connection to itself.
     *
     * @return whether the peer's process id is available
     */
    public boolean supportsPeerProcessId() {
        return engine.supportsPeerProcessId();
    }

    /**
     * Why the automatic choice did not take this platform's completion engine (for example
     * {@code "io_uring is unavailable: io_uring_setup: EPERM (1)"}), or empty if it did, or if
     * {@value #PROPERTY} chose the engine.
     *
     * @return the reason for a fallback, if there was one
     */
    public Optional<String> fallbackReason() {
        return Optional.ofNullable(fallbackReason);
    }

    /** The name and capabilities, e.g. {@code PipeEngine[io_uring, message mode, peer process id]}. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("PipeEngine[").append(name());
        if (supportsMessageMode()) {
            b.append(", message mode");
        }
        if (supportsPeerProcessId()) {
            b.append(", peer process id");
        }
        if (fallbackReason != null) {
            b.append(", fallback: ").append(fallbackReason);
        }
        return b.append(']').toString();
    }
}

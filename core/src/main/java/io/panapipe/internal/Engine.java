package io.panapipe.internal;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;

import java.io.IOException;

/**
 * A completion engine plus the transport it drives: io_uring + AF_UNIX, IOCP + named pipes, or
 * the JDK's SocketChannel. Chosen once per JVM by {@link Engines}.
 */
public interface Engine {
    /** Short name: {@code io_uring}, {@code iocp} or {@code nio}. */
    String name();

    /** Binds a server to {@code name}; fails if a live server holds it. */
    ServerEndpoint bind(PipeName name, PipeOptions options) throws IOException;

    /**
     * One connection attempt, without waiting. {@link io.panapipe.PipeClient} retries failures
     * that {@link #isBusy} or {@link #isAbsent} classify, until its deadline.
     */
    Transport connect(PipeName name, PipeOptions options) throws IOException;

    /** The server exists but has no free instance or a full backlog ({@code ERROR_PIPE_BUSY}, {@code EAGAIN}). */
    boolean isBusy(PipeException e);

    /** Nobody serves the name ({@code ERROR_FILE_NOT_FOUND}, {@code ENOENT}, {@code ECONNREFUSED}). */
    boolean isAbsent(PipeException e);

    /**
     * Whether servers and clients of this engine can use {@link io.panapipe.PipeMode#MESSAGE}.
     * An engine that knows should override this; the default asks the engine itself, once, by
     * binding a throw-away MESSAGE-mode server.
     */
    default boolean supportsMessageMode() {
        return EngineProbe.messageMode(this);
    }

    /**
     * Whether {@link io.panapipe.Pipe#peerProcessId()} answers on this engine's connections. An
     * engine that knows should override this; the default asks the engine itself, once, over a
     * throw-away connection to itself.
     */
    default boolean supportsPeerProcessId() {
        return EngineProbe.peerProcessId(this);
    }
}

package io.panapipe.internal;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;

import java.io.IOException;

/**
 * A completion engine plus the transport it drives: epoll or io_uring + AF_UNIX, IOCP + named
 * pipes, or the JDK's SocketChannel. Chosen once per JVM by {@link Engines}.
 */
public interface Engine {
    /**
     * Short name: {@code epoll}, {@code io_uring}, {@code iocp} or {@code nio}.
     *
     * @return the name
     */
    String name();

    /**
     * Binds a server to {@code name}; fails if a live server holds it.
     *
     * @param name the pipe to serve
     * @param options the server's settings
     * @return the bound server
     * @throws IOException if a live server holds the name, or another OS error
     */
    ServerEndpoint bind(PipeName name, PipeOptions options) throws IOException;

    /**
     * One connection attempt, without waiting. {@link io.panapipe.PipeClient} retries failures
     * that {@link #isBusy} or {@link #isAbsent} classify, until its deadline.
     *
     * @param name the pipe to connect to
     * @param options the client's settings
     * @return the connection
     * @throws IOException if the attempt fails (a {@link PipeException} carrying the native code)
     */
    Transport connect(PipeName name, PipeOptions options) throws IOException;

    /**
     * The server exists but has no free instance or a full backlog ({@code ERROR_PIPE_BUSY}, {@code EAGAIN}).
     *
     * @param e a failed {@link #connect}'s exception
     * @return {@code true} if a retry may find a free instance
     */
    boolean isBusy(PipeException e);

    /**
     * Nobody serves the name ({@code ERROR_FILE_NOT_FOUND}, {@code ENOENT}, {@code ECONNREFUSED}).
     *
     * @param e a failed {@link #connect}'s exception
     * @return {@code true} if no server is there (yet)
     */
    boolean isAbsent(PipeException e);

    /**
     * Whether servers and clients of this engine can use {@link io.panapipe.PipeMode#MESSAGE}.
     * An engine that knows should override this; the default asks the engine itself, once, by
     * binding a throw-away MESSAGE-mode server.
     *
     * @return {@code true} if MESSAGE mode works
     */
    default boolean supportsMessageMode() {
        return EngineProbe.messageMode(this);
    }

    /**
     * Whether {@link io.panapipe.Pipe#peerProcessId()} answers on this engine's connections. An
     * engine that knows should override this; the default asks the engine itself, once, over a
     * throw-away connection to itself.
     *
     * @return {@code true} if the peer's process id can be read
     */
    default boolean supportsPeerProcessId() {
        return EngineProbe.peerProcessId(this);
    }
}

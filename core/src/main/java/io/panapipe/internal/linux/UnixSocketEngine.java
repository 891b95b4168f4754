package io.panapipe.internal.linux;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.Engine;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What the Linux engines (epoll, io_uring) share as engines: binding and connecting AF_UNIX
 * sockets through {@link UnixEndpoints}, and which errnos mean busy or absent. A subclass only
 * wraps the fd in its own server or transport.
 */
abstract class UnixSocketEngine implements Engine {

    /** Wraps a listening socket (bound to {@code path}) in this engine's server. */
    abstract ServerEndpoint newServer(int fd, Path path, PipeOptions options);

    /** Wraps a connected socket in this engine's transport. */
    abstract Transport newTransport(int fd, PipeOptions options);

    /** Throws if this engine can serve no more I/O (its poller failed); checked before bind and connect. */
    void checkAlive() throws IOException {
    }

    @Override
    public final ServerEndpoint bind(PipeName name, PipeOptions options) throws IOException {
        checkAlive();
        UnixEndpoints.Listening l = UnixEndpoints.bind(name, options);
        try {
            return newServer(l.fd(), l.path(), options);
        } catch (RuntimeException e) {
            UnixEndpoints.closeListening(l.fd(), l.path());
            throw e;
        }
    }

    @Override
    public final Transport connect(PipeName name, PipeOptions options) throws IOException {
        checkAlive();
        int fd = UnixEndpoints.connect(name, options);
        try {
            return newTransport(fd, options);
        } catch (RuntimeException e) {
            UnixSockets.closeQuietly(fd);
            throw e;
        }
    }

    @Override
    public final boolean isBusy(PipeException e) {
        return e.nativeCode() == Errnos.EAGAIN;
    }

    @Override
    public final boolean isAbsent(PipeException e) {
        return e.nativeCode() == Errnos.ENOENT || e.nativeCode() == Errnos.ECONNREFUSED;
    }
}

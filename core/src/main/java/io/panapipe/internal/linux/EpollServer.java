package io.panapipe.internal.linux;

import io.panapipe.PipeOptions;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.unix.AcceptBackoff;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;

/**
 * A listening AF_UNIX socket of the epoll engine: {@code accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)} on
 * the calling thread; on {@code EAGAIN} a wait for the socket to become readable
 * ({@link FdReadiness}), then again. Admission (the peer's uid, socket options) is
 * {@link UnixEndpoints#admit}; at the descriptor limit it backs off ({@link UnixEndpoints#acceptFailed}).
 */
final class EpollServer implements ServerEndpoint {
    private final EpollEngine engine;
    private final int fd;
    private final Path path;
    private final PipeOptions options;
    private final IoGate gate = new IoGate();
    private final int myUid = LibC.getuid();
    private final Arena arena = Arena.ofShared();
    private final FdReadiness readiness;
    // Used by the accepting thread only (PipeServer serialises accepts).
    private final UnixEndpoints.AcceptScratch scratch = new UnixEndpoints.AcceptScratch();
    private final AcceptBackoff backoff = new AcceptBackoff();
    private boolean released;

    EpollServer(EpollEngine engine, int fd, Path path, PipeOptions options) {
        this.engine = engine;
        this.fd = fd;
        this.path = path;
        this.options = options;
        this.readiness = new FdReadiness(engine.pollers, fd, arena, arena.allocate(FdReadiness.SCRATCH_SIZE, 8),
                scratch.errno, arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN));
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    @Override
    public Transport accept(long timeoutNanos) throws IOException {
        long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
        for (;;) {
            int ticket = FdReadiness.ticket(readiness.reader);
            int client = LibC.accept4(scratch.errno, fd, UnixSockets.NONBLOCK_CLOEXEC);
            if (client >= 0) {
                backoff.reset();
                if (!UnixEndpoints.admit(client, options, myUid, scratch)) {
                    continue;
                }
                try {
                    return new EpollTransport(engine, client, options.mode());
                } catch (RuntimeException e) {
                    UnixSockets.closeQuietly(scratch.errno, client);
                    throw e;
                }
            }
            int e = LibC.errno(scratch.errno);
            if (e == Errnos.EAGAIN) {
                long left = timeoutNanos < 0 ? Operation.NO_TIMEOUT : Math.max(0, deadline - System.nanoTime());
                int outcome = readiness.await(FdReadiness.READ, ticket, left, gate);
                if (outcome != FdReadiness.READY) {
                    throw Operation.failure(outcome, "accept");
                }
            } else if (e != Errnos.EINTR && e != Errnos.ECONNABORTED) {
                UnixEndpoints.acceptFailed(e, path, backoff, gate, deadline, timeoutNanos); // EMFILE: pause, retry
            }
        }
    }

    @Override
    public void wakeAll() {
        readiness.wakeAll();
    }

    @Override
    public void release() throws IOException {
        if (released) {
            return;
        }
        released = true;
        try {
            readiness.release();
            UnixEndpoints.closeListening(scratch.errno, fd, path); // the file only if still ours, then the name's lock
        } finally {
            scratch.close();
            arena.close();
        }
    }
}

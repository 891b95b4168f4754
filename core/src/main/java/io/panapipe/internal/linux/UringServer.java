package io.panapipe.internal.linux;

import io.panapipe.PipeOptions;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.unix.AcceptBackoff;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A listening AF_UNIX socket. {@code accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)} on the calling
 * thread first; on {@code EAGAIN} an {@code IORING_OP_ACCEPT} with the same flags. Admission
 * (the peer's uid, socket options) is {@link UnixEndpoints#admit}; out of descriptors, the accept
 * backs off ({@link UnixEndpoints#acceptFailed}). Once the engine's poller has failed, every
 * accept throws its {@code IOException} ({@link UringFailure}).
 */
final class UringServer implements ServerEndpoint {
    private final IoUringEngine engine;
    private final int fd;
    private final Path path;
    private final PipeOptions options;
    private final IoGate gate = new IoGate();
    private final Operation acceptOp;
    private final int myUid = LibC.getuid();
    private final AcceptBackoff backoff = new AcceptBackoff();

    // Used by the accepting thread only (PipeServer serialises accepts).
    private final UnixEndpoints.AcceptScratch scratch = new UnixEndpoints.AcceptScratch();
    private final MemorySegment errno = scratch.errno;
    private boolean released;

    UringServer(IoUringEngine engine, int fd, Path path, PipeOptions options) {
        this.engine = engine;
        this.fd = fd;
        this.path = path;
        this.options = options;
        this.acceptOp = engine.table.allocate();
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    @Override
    public Transport accept(long timeoutNanos) throws IOException {
        engine.checkAlive();
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            int client = LibC.accept4(errno, fd, UnixSockets.NONBLOCK_CLOEXEC);
            int e = client < 0 ? LibC.errno(errno) : 0;
            if (client < 0 && e == Errnos.EAGAIN) {
                acceptOp.arm();
                if (!engine.sq.accept(fd, UnixSockets.NONBLOCK_CLOEXEC, acceptOp.id())) {
                    throw engine.refused(acceptOp);
                }
                long left = timeoutNanos < 0 ? Operation.NO_TIMEOUT : Math.max(0, deadline - System.nanoTime());
                int outcome;
                try {
                    outcome = acceptOp.await(left, engine.canceller, gate);
                } finally {
                    engine.spin.ran();
                }
                int res = acceptOp.result();
                if (res >= 0 && (outcome == Operation.CLOSED || outcome == Operation.INTERRUPTED)) {
                    UnixSockets.closeQuietly(errno, res); // a client that raced with close: not handed out
                }
                if (res == -Errnos.ECANCELED || res == -Errnos.EINTR) {
                    engine.checkAlive(); // cancelled by the failed poller's drain
                    if (outcome == Operation.COMPLETED) {
                        continue; // cancelled by the kernel, not by us (the submitting thread exited)
                    }
                    throw Operation.failure(outcome, "accept");
                }
                if (outcome == Operation.CLOSED || outcome == Operation.INTERRUPTED) {
                    throw Operation.failure(outcome, "accept");
                }
                if (res >= 0) {
                    client = res; // after a timeout too: the client is already connected, hand it out
                } else {
                    e = -res;
                }
            }
            if (client < 0) {
                if (e == Errnos.EAGAIN || e == Errnos.EINTR || e == Errnos.ECONNABORTED) {
                    continue;
                }
                UnixEndpoints.acceptFailed(e, path, backoff, gate, deadline, timeoutNanos); // EMFILE: pause, retry
                continue;
            }
            backoff.reset();
            Transport t = admit(client);
            if (t != null) {
                return t;
            }
        }
    }

    /** Checks and configures an accepted socket; {@code null} if it was refused (and closed). */
    private Transport admit(int client) throws IOException {
        if (!UnixEndpoints.admit(client, options, myUid, scratch)) {
            return null;
        }
        try {
            return new UringTransport(engine, client, options.mode());
        } catch (RuntimeException e) {
            UnixSockets.closeQuietly(errno, client);
            throw e;
        }
    }

    @Override
    public void wakeAll() {
        acceptOp.wakeWaiter();
    }

    @Override
    public void release() throws IOException {
        if (released) {
            return;
        }
        released = true;
        try {
            UnixEndpoints.closeListening(errno, fd, path); // the file only if still ours, then the name's lock
        } finally {
            engine.release(acceptOp); // leaked if abandoned to the kernel (it lends no memory)
            scratch.close();
        }
    }
}

package io.panapipe.internal.linux;

import io.panapipe.PipeMode;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One connected AF_UNIX socket of the epoll engine. Every transfer is a non-blocking
 * {@code recv}/{@code send} on the calling thread that takes the caller's segment as its argument,
 * so the data moves inside that downcall and the kernel never holds the caller's memory afterwards
 * (DESIGN rule 12). On {@code EAGAIN} a read or write may spin briefly ({@link SpinPolicy}), then waits for
 * readiness ({@link FdReadiness}) and tries again. A wait that ends by timeout, interrupt or close
 * has consumed nothing: the data stays queued in the socket and the pipe stays usable.
 *
 * <p>MESSAGE mode ({@code SOCK_SEQPACKET}) peeks at the next message and lets
 * {@link SeqpacketReceiver} finish the read.
 */
final class EpollTransport implements Transport {
    private static final int MSG_DONTWAIT = Linux.MSG_DONTWAIT();
    private static final int MSG_NOSIGNAL = Linux.MSG_NOSIGNAL();

    private final EpollEngine engine;
    private final int fd;
    private final PipeMode mode;
    private final IoGate gate = new IoGate();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment readErrno;
    private final MemorySegment writeErrno;
    private final FdReadiness readiness;
    /** MESSAGE mode only (guarded by PipeChannel's read lock). */
    private final SeqpacketReceiver messages;

    /** Whether a read spins before it parks (guarded by PipeChannel's read lock). */
    private final SpinPolicy.Spinner readSpin;
    /** Whether a write into a full socket spins before it parks (guarded by PipeChannel's write lock). */
    private final SpinPolicy.Spinner writeSpin;

    private volatile long peerPid = -1;
    private boolean released;

    EpollTransport(EpollEngine engine, int fd, PipeMode mode) {
        this.engine = engine;
        this.fd = fd;
        this.mode = mode;
        try {
            // One allocation for the connection's native state: two errno captures and the
            // readiness scratch (48 bytes on Linux x64; an idle connection holds nothing else native).
            MemorySegment block = arena.allocate(2 * LibC.ERRNO_SLOT + FdReadiness.SCRATCH_SIZE, 8);
            this.readErrno = block.asSlice(0, LibC.ERRNO_SIZE);
            this.writeErrno = block.asSlice(LibC.ERRNO_SLOT, LibC.ERRNO_SIZE);
            this.messages = mode == PipeMode.MESSAGE ? new SeqpacketReceiver(fd, readErrno, arena) : null;
            this.readiness = new FdReadiness(engine.pollers, fd, arena, block.asSlice(2 * LibC.ERRNO_SLOT), readErrno, writeErrno);
            this.readSpin = engine.pollers.spin.spinner(gate);
            this.writeSpin = engine.pollers.spin.spinner(gate);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    @Override
    public boolean lendsBuffersToKernel() {
        return false; // recv/send move the data inside the downcall
    }

    // ---- reads ---------------------------------------------------------------------------------

    @Override
    public int read(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        if (mode == PipeMode.MESSAGE && messages.hasPending()) {
            return messages.handOut(buf, offset, length);
        }
        MemorySegment target = view(buf, offset, length);
        int flags = mode == PipeMode.MESSAGE ? MSG_DONTWAIT | SeqpacketReceiver.PEEK_FLAGS : MSG_DONTWAIT;
        long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
        try {
            for (;;) {
                int ticket = FdReadiness.ticket(readiness.reader);
                long n = LibC.recv(readErrno, fd, target, length, flags);
                if (n >= 0) {
                    readSpin.succeeded();
                    if (mode == PipeMode.MESSAGE) {
                        return messages.deliver(n, buf, offset, length);
                    }
                    return n > 0 ? (int) n : -1; // 0: orderly shutdown by the peer
                }
                int e = LibC.errno(readErrno);
                if (e == Errnos.EAGAIN) {
                    spinOrWait(readSpin, FdReadiness.READ, ticket, timeoutNanos, deadline, "read");
                } else if (e == Errnos.ECONNRESET || e == Errnos.ENOTCONN) {
                    return mode == PipeMode.MESSAGE ? messages.endOfStream() : -1; // the peer died: end of stream
                } else if (e != Errnos.EINTR) {
                    throw Errnos.exception("read", e);
                }
            }
        } finally {
            readSpin.endCall();
        }
    }

    @Override
    public boolean isMessageComplete() {
        return messages == null || messages.isMessageComplete();
    }

    // ---- writes --------------------------------------------------------------------------------

    @Override
    public int write(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        MemorySegment source = view(buf, offset, length);
        long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
        try {
            for (;;) {
                int ticket = FdReadiness.ticket(readiness.writer);
                long n = LibC.send(writeErrno, fd, source, length, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n >= 0) {
                    writeSpin.succeeded();
                    return (int) n;
                }
                int e = LibC.errno(writeErrno);
                if (e == Errnos.EAGAIN) {
                    // A full socket: when the reader drains it on another core, room comes
                    // within microseconds, so the same policy as a read decides whether to spin.
                    spinOrWait(writeSpin, FdReadiness.WRITE, ticket, timeoutNanos, deadline, "write");
                } else if (e != Errnos.EINTR) {
                    throw UnixSockets.writeFailure(e, length);
                }
            }
        } finally {
            writeSpin.endCall();
        }
    }

    /**
     * After {@code EAGAIN}: returns at once if the call should spin (retry its syscall), else
     * waits until the socket may be ready for {@code direction} and returns for the retry.
     *
     * @throws IOException the wait ended by timeout, interrupt or close (nothing was transferred), or the poller failed
     */
    private void spinOrWait(SpinPolicy.Spinner spinner, int direction, int ticket, long timeoutNanos, long deadline,
                            String what) throws IOException {
        if (spinner.retry()) {
            return;
        }
        spinner.parking();
        long left = timeoutNanos < 0 ? Operation.NO_TIMEOUT : Math.max(0, deadline - System.nanoTime());
        int outcome = readiness.await(direction, ticket, left, gate);
        if (outcome != FdReadiness.READY) {
            throw Operation.failure(outcome, what);
        }
    }

    /**
     * The segment to pass to the kernel for {@code length} bytes at {@code offset} of {@code buf}:
     * a segment argument, so that the downcall keeps its scope alive. At offset 0 that is
     * {@code buf} itself (the length argument bounds the transfer), so no slice is allocated;
     * PipeChannel passes offset 0 except for the rest of a partial write.
     */
    private static MemorySegment view(MemorySegment buf, long offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, buf.byteSize());
        return offset == 0 ? buf : buf.asSlice(offset, length);
    }

    // ---- the rest ------------------------------------------------------------------------------

    @Override
    public long peerProcessId() throws IOException {
        long pid = peerPid;
        if (pid < 0) {
            pid = UnixSockets.peerPid(fd);
            peerPid = pid;
        }
        return pid;
    }

    @Override
    public void shutdownOutput() throws IOException {
        UnixSockets.shutdownOutput(fd);
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
            UnixSockets.closeQuietly(readErrno, fd);
        } finally {
            if (messages != null) {
                messages.free();
            }
            arena.close();
        }
    }
}

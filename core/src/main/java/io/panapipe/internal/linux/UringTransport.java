package io.panapipe.internal.linux;

import io.panapipe.PipeMode;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * One connected AF_UNIX socket. Every transfer follows the same steps: try the non-blocking
 * syscall on the calling thread; on {@code EAGAIN} arm the connection's operation slot, submit
 * the io_uring request tagged with the slot's id, and {@link Operation#await await} it — which
 * cancels on timeout, interrupt or close and always waits for the CQE before returning, so the
 * buffer is never reused while the kernel may still write to it.
 *
 * <p>MESSAGE mode ({@code SOCK_SEQPACKET}) peeks at the next message and lets
 * {@link SeqpacketReceiver} finish the read; waiting for a message is an {@code IORING_OP_RECV}
 * with the same peek flags, so a cancelled wait has consumed nothing.
 *
 * <p>Once the engine's poller has failed ({@link UringFailure}) every call throws its
 * {@code IOException} at once, and a wait the failure cancelled throws it too. If the kernel
 * kept a request of this connection after the failure, {@link #release} leaks its slot and
 * {@link #kernelMayHoldBuffers} tells the channel to leak its staging buffers.
 */
final class UringTransport implements Transport {
    private static final int MSG_DONTWAIT = Linux.MSG_DONTWAIT();
    private static final int MSG_NOSIGNAL = Linux.MSG_NOSIGNAL();
    private static final int PEEK_FLAGS = SeqpacketReceiver.PEEK_FLAGS;

    private final IoUringEngine engine;
    private final SubmissionQueue sq;
    private final int fd;
    private final PipeMode mode;
    private final IoGate gate = new IoGate();
    private final Operation readOp;
    private final Operation writeOp;

    // Native state of this connection: errno capture per calling context (never handed to the
    // kernel beyond a call), freed in release() without a shared arena's JVM-wide handshake.
    private final Arena arena = new MallocArena();
    private final MemorySegment readErrno;
    private final MemorySegment writeErrno;
    /** MESSAGE mode only (guarded by PipeChannel's read lock). */
    private final SeqpacketReceiver messages;

    /** Whether a read spins before it parks (guarded by PipeChannel's read lock). */
    private final SpinPolicy.Spinner spin;

    private volatile long peerPid = -1;
    private boolean released;

    UringTransport(IoUringEngine engine, int fd, PipeMode mode) {
        this.engine = engine;
        this.sq = engine.sq;
        this.fd = fd;
        this.mode = mode;
        this.readErrno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
        this.writeErrno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
        this.messages = mode == PipeMode.MESSAGE ? new SeqpacketReceiver(fd, readErrno, arena) : null;
        this.readOp = engine.table.allocate();
        this.writeOp = engine.table.allocate();
        this.spin = engine.spin.spinner(gate);
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    @Override
    public boolean lendsBuffersToKernel() {
        return true; // an IORING_OP_RECV/SEND keeps the address until its CQE
    }

    /**
     * The pipe's staging buffers from the C allocator: freeing one costs no JVM-wide handshake.
     * The kernel may hold them until a completion; the pipe frees them only after the gate is
     * idle and, if the engine failed with requests still out, not at all
     * ({@link #kernelMayHoldBuffers}), as with any arena.
     */
    @Override
    public Arena newBufferArena() {
        return new MallocArena();
    }

    // ---- reads ---------------------------------------------------------------------------------

    @Override
    public int read(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        engine.checkAlive();
        long address = addressOf(buf, offset, length);
        return mode == PipeMode.MESSAGE
                ? readMessage(buf, offset, address, length, timeoutNanos)
                : readBytes(buf, address, length, timeoutNanos);
    }

    private int readBytes(MemorySegment buf, long address, int length, long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        try {
            for (;;) {
                long n = LibC.recv(readErrno, fd, address, length, MSG_DONTWAIT);
                if (n >= 0) {
                    spin.succeeded();
                    return n > 0 ? (int) n : -1; // 0: orderly shutdown by the peer
                }
                int e = LibC.errno(readErrno);
                if (e == Errnos.EAGAIN) {
                    if (spin.retry()) {
                        continue;
                    }
                    spin.parking();
                    readOp.arm(buf);
                    if (!sq.recv(fd, address, length, 0, readOp.id())) {
                        throw engine.refused(readOp);
                    }
                    int outcome = await(readOp, remaining(deadline, timeoutNanos));
                    int res = readOp.result();
                    if (isCancelled(res)) {
                        engine.checkAlive(); // cancelled by the failed poller's drain
                        if (outcome == Operation.COMPLETED) {
                            continue; // not ours: e.g. the submitting carrier thread exited; try again
                        }
                        throw Operation.failure(outcome, "read");
                    }
                    if (outcome == Operation.CLOSED || outcome == Operation.INTERRUPTED) {
                        throw Operation.failure(outcome, "read"); // bytes that raced in go with the closing pipe
                    }
                    if (res > 0) {
                        return res; // also after a timeout: bytes that raced with the cancel are delivered
                    }
                    if (res == 0) {
                        return -1;
                    }
                    e = -res;
                    if (e == Errnos.EAGAIN) {
                        continue;
                    }
                } else if (e == Errnos.EINTR) {
                    continue;
                }
                if (e == Errnos.ECONNRESET || e == Errnos.ENOTCONN) {
                    return -1; // the peer died: end of stream
                }
                throw Errnos.exception("read", e);
            }
        } finally {
            spin.endCall();
        }
    }

    /** {@link Operation#await} for a submitted request, reporting to the spin policy that its owner runs again. */
    private int await(Operation op, long timeoutNanos) {
        try {
            return op.await(timeoutNanos, engine.canceller, gate);
        } finally {
            engine.spin.ran();
        }
    }

    private int readMessage(MemorySegment buf, long offset, long address, int length, long timeoutNanos)
            throws IOException {
        if (messages.hasPending()) {
            return messages.handOut(buf, offset, length);
        }
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            long n = LibC.recv(readErrno, fd, address, length, MSG_DONTWAIT | PEEK_FLAGS);
            if (n < 0) {
                int e = LibC.errno(readErrno);
                if (e == Errnos.EAGAIN) {
                    readOp.arm(buf);
                    if (!sq.recv(fd, address, length, PEEK_FLAGS, readOp.id())) {
                        throw engine.refused(readOp);
                    }
                    int outcome = await(readOp, remaining(deadline, timeoutNanos));
                    int res = readOp.result();
                    if (outcome == Operation.CLOSED || outcome == Operation.INTERRUPTED) {
                        throw Operation.failure(outcome, "read");
                    }
                    if (isCancelled(res)) {
                        engine.checkAlive(); // cancelled by the failed poller's drain
                        if (outcome == Operation.COMPLETED) {
                            continue;
                        }
                        throw Operation.failure(outcome, "read");
                    }
                    if (res >= 0) {
                        n = res; // peeked (nothing consumed): deliver it, even if the deadline passed meanwhile
                    } else {
                        e = -res;
                    }
                }
                if (n < 0) {
                    if (e == Errnos.EAGAIN || e == Errnos.EINTR) {
                        continue;
                    }
                    if (e == Errnos.ECONNRESET || e == Errnos.ENOTCONN) {
                        return messages.endOfStream();
                    }
                    throw Errnos.exception("read", e);
                }
            }
            return messages.deliver(n, buf, offset, length);
        }
    }

    @Override
    public boolean isMessageComplete() {
        return messages == null || messages.isMessageComplete();
    }

    // ---- writes --------------------------------------------------------------------------------

    @Override
    public int write(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        engine.checkAlive();
        long address = addressOf(buf, offset, length);
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            long n = LibC.send(writeErrno, fd, address, length, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) {
                return (int) n;
            }
            int e = LibC.errno(writeErrno);
            if (e == Errnos.EAGAIN) {
                writeOp.arm(buf);
                if (!sq.send(fd, address, length, MSG_NOSIGNAL, writeOp.id())) {
                    throw engine.refused(writeOp);
                }
                int outcome = await(writeOp, remaining(deadline, timeoutNanos));
                int res = writeOp.result();
                if (isCancelled(res)) {
                    engine.checkAlive(); // cancelled by the failed poller's drain
                    if (outcome == Operation.COMPLETED) {
                        continue;
                    }
                    throw Operation.failure(outcome, "write");
                }
                if (outcome == Operation.CLOSED || outcome == Operation.INTERRUPTED) {
                    throw Operation.failure(outcome, "write");
                }
                if (res >= 0) {
                    return res; // after a timeout too: the bytes that went out are counted
                }
                e = -res;
                if (e == Errnos.EAGAIN) {
                    continue;
                }
            } else if (e == Errnos.EINTR) {
                continue;
            }
            throw UnixSockets.writeFailure(e, length);
        }
    }

    // ---- shared --------------------------------------------------------------------------------

    /** The kernel gets raw addresses: only native memory, within bounds (PipeChannel stages heap data). */
    private static long addressOf(MemorySegment buf, long offset, int length) {
        if (!buf.isNative()) {
            throw new IllegalArgumentException("the io_uring transport needs a native segment");
        }
        Objects.checkFromIndexSize(offset, length, buf.byteSize());
        return buf.address() + offset;
    }

    private static boolean isCancelled(int res) {
        return res == -Errnos.ECANCELED || res == -Errnos.EINTR;
    }

    private static long remaining(long deadline, long timeoutNanos) {
        return timeoutNanos < 0 ? Operation.NO_TIMEOUT : Math.max(0, deadline - System.nanoTime());
    }

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
        readOp.wakeWaiter();
        writeOp.wakeWaiter();
    }

    /** Whether a request of this connection was abandoned to the kernel after the poller failed. */
    @Override
    public boolean kernelMayHoldBuffers() {
        return engine.failure.isAbandoned(readOp) || engine.failure.isAbandoned(writeOp);
    }

    @Override
    public void release() throws IOException {
        if (released) {
            return;
        }
        released = true;
        try {
            UnixSockets.closeQuietly(readErrno, fd); // the kernel keeps its own reference for a request it still holds
        } finally {
            engine.release(readOp);
            engine.release(writeOp);
            if (messages != null) {
                messages.free();
            }
            arena.close();
        }
    }

    int fd() {
        return fd;
    }
}

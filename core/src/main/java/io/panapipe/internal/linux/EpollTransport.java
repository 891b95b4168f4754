package io.panapipe.internal.linux;

import io.panapipe.PipeMode;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.iovec;
import io.panapipe.bindings.linux.msghdr;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One connected AF_UNIX socket of the epoll engine. Every transfer is a non-blocking
 * {@code recv}/{@code send} on the calling thread that takes the caller's segment as its argument,
 * so the data moves inside that downcall and the kernel never holds the caller's memory afterwards
 * (DESIGN rule 12). On {@code EAGAIN} a read or write may spin briefly ({@link SpinPolicy}), then waits for
 * readiness ({@link FdReadiness}) and tries again. A wait that ends by timeout, interrupt or close
 * has consumed nothing: the data stays queued in the socket and the pipe stays usable.
 *
 * <p>A BYTE-mode read into the pipe's own memory ({@link #readIntoOwn}: its read-ahead and
 * staging buffers) uses {@code recvmsg}, whose raw buffer address is safe there, and learns from it
 * whether the socket was left empty: a read that returns less than it asked for, with no file
 * descriptors cut off ({@code MSG_CTRUNC}), emptied the queue. The next read then waits for the
 * socket's next edge at once, with the ticket of that read ({@link FdReadiness#quietSince}),
 * instead of first making the {@code recv} that would only say {@code EAGAIN}: in a
 * request/response exchange, one syscall less per message (about 1.2 µs on the development VM).
 *
 * <p>MESSAGE mode ({@code SOCK_SEQPACKET}) peeks at the next message and lets
 * {@link SeqpacketReceiver} finish the read.
 */
final class EpollTransport implements Transport {
    private static final int MSG_DONTWAIT = Linux.MSG_DONTWAIT();
    private static final int MSG_NOSIGNAL = Linux.MSG_NOSIGNAL();
    private static final int MSG_CTRUNC = Linux.MSG_CTRUNC();
    private static final long IOV_BASE = iovec.iov_base$offset();

    private final EpollEngine engine;
    private final int fd;
    private final PipeMode mode;
    private final IoGate gate = new IoGate();
    /** The connection's native memory; freed at once on release (no shared-arena handshake). */
    private final Arena arena = new MallocArena();
    private final MemorySegment readErrno;
    private final MemorySegment writeErrno;
    private final FdReadiness readiness;
    /** MESSAGE mode only (guarded by PipeChannel's read lock). */
    private final SeqpacketReceiver messages;

    // Reads into the pipe's own memory (guarded by PipeChannel's read lock, like the rest of the
    // read state): the recvmsg header with its one iovec, allocated on first use, and whether the
    // last such read left the socket empty, with the readiness ticket it was made with.
    private MemorySegment ownMsg;
    private MemorySegment ownIov;
    private boolean leftEmpty;
    private int leftEmptyTicket;

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

    /** Yes: a short read into the pipe's own memory lets the next read skip its EAGAIN call. */
    @Override
    public boolean wantsReadAhead() {
        return true;
    }

    /** The pipe's buffers come from the C allocator too: the kernel never holds them after a call. */
    @Override
    public Arena newBufferArena() {
        return new MallocArena();
    }

    // ---- reads ---------------------------------------------------------------------------------

    @Override
    public int read(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        return receive(buf, offset, length, timeoutNanos, false);
    }

    @Override
    public int readIntoOwn(MemorySegment own, long offset, int length, long timeoutNanos) throws IOException {
        return receive(own, offset, length, timeoutNanos, mode == PipeMode.BYTE);
    }

    /** The key of this socket's readiness in its poller (tests). */
    long readinessKey() {
        return readiness.key;
    }

    /** A read; {@code own}: into the pipe's own memory, by {@code recvmsg} (BYTE mode). */
    private int receive(MemorySegment buf, long offset, int length, long timeoutNanos, boolean own) throws IOException {
        if (mode == PipeMode.MESSAGE && messages.hasPending()) {
            return messages.handOut(buf, offset, length);
        }
        MemorySegment target = view(buf, offset, length);
        if (own) {
            aimOwn(buf, offset, length);
        }
        int flags = mode == PipeMode.MESSAGE ? MSG_DONTWAIT | SeqpacketReceiver.PEEK_FLAGS : MSG_DONTWAIT;
        long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
        try {
            for (;;) {
                int ticket = FdReadiness.ticket(readiness.reader);
                if (leftEmpty && timeoutNanos != 0 && readiness.quietSince(leftEmptyTicket)) {
                    // Still empty as far as anyone can know: skip the recv that would say EAGAIN.
                    // (A zero timeout still tries the recv: the edge of bytes that already
                    // arrived may not have been dispatched yet.)
                    leftEmpty = false;
                    spinOrWait(readSpin, FdReadiness.READ, leftEmptyTicket, timeoutNanos, deadline, "read");
                    continue;
                }
                leftEmpty = false;
                long n = own ? LibC.recvmsg(readErrno, fd, ownMsg, flags) : LibC.recv(readErrno, fd, target, length, flags);
                if (n >= 0) {
                    readSpin.succeeded();
                    if (mode == PipeMode.MESSAGE) {
                        return messages.deliver(n, buf, offset, length);
                    }
                    if (n == 0) {
                        return -1; // orderly shutdown by the peer
                    }
                    // Short, with no descriptors cut off (SCM_RIGHTS ends a read early): emptied.
                    leftEmpty = own && n < length && (msghdr.msg_flags(ownMsg) & MSG_CTRUNC) == 0;
                    leftEmptyTicket = ticket;
                    return (int) n;
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

    /** Points the {@code recvmsg} header at {@code length} bytes of the pipe's own memory. */
    private void aimOwn(MemorySegment own, long offset, int length) {
        if (ownMsg == null) {
            MemorySegment msg = arena.allocate(msghdr.layout().byteSize() + iovec.layout().byteSize(), 8);
            ownIov = msg.asSlice(msghdr.layout().byteSize(), iovec.layout());
            ownMsg = msg.asSlice(0, msghdr.layout());
            msghdr.msg_iov(ownMsg, ownIov); // no name, no control: the rest stays zero
            msghdr.msg_iovlen(ownMsg, 1);
        }
        // A raw address: safe only because the pipe frees this memory after its last read.
        ownIov.set(ValueLayout.JAVA_LONG, IOV_BASE, own.address() + offset);
        iovec.iov_len(ownIov, length);
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

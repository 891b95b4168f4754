package io.panapipe.internal.linux;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.msghdr;
import io.panapipe.bindings.linux.ucred;
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
 * <h2>MESSAGE mode ({@code SOCK_SEQPACKET})</h2>
 * A SEQPACKET {@code recv} into a short buffer silently discards the rest of the message, so a
 * message is never received straight into the caller's buffer. Instead it is peeked with
 * {@code MSG_PEEK | MSG_TRUNC}, which copies what fits and returns the full length:
 * <ul>
 *   <li>it fits (the common case): the peeked bytes are already in place; the message is then
 *       dropped from the queue with a zero-length {@code recv} — two syscalls, one copy;</li>
 *   <li>it does not fit: it is received whole into a per-connection native reassembly buffer
 *       (grown on demand, freed at close) and handed out over the following reads, with
 *       {@link #isMessageComplete()} {@code false} until its last part.</li>
 * </ul>
 * Waiting for a message is an {@code IORING_OP_RECV} with the same peek flags: a cancelled wait
 * has consumed nothing, so no message is ever lost to a timeout.
 *
 * <p>SEQPACKET reports both an empty message and end of stream as 0. The socket has
 * {@code SO_PASSCRED} set, so every queued message, empty or not, carries an
 * {@code SCM_CREDENTIALS} control message; a 0 is an empty message if a {@code recvmsg} peek sees
 * one, and end of stream (-1) if it sees none. An empty message the peer sent just before closing
 * is therefore still delivered before the -1.
 */
final class UringTransport implements Transport {
    private static final int MSG_DONTWAIT = Linux.MSG_DONTWAIT();
    private static final int MSG_NOSIGNAL = Linux.MSG_NOSIGNAL();
    private static final int MSG_PEEK = Linux.MSG_PEEK();
    private static final int MSG_TRUNC = Linux.MSG_TRUNC();
    private static final int PEEK_FLAGS = MSG_PEEK | MSG_TRUNC;
    private static final long CONTROL_SIZE = 64; // CMSG_SPACE(sizeof(struct ucred)) = 32, with room

    private final IoUringEngine engine;
    private final SubmissionQueue sq;
    private final int fd;
    private final PipeMode mode;
    private final IoGate gate = new IoGate();
    private final Operation readOp;
    private final Operation writeOp;

    // Native state of this connection: errno capture per calling context, and the recvmsg header
    // used to tell an empty message from end of stream. One shared arena, freed in release().
    private final Arena arena = Arena.ofShared();
    private final MemorySegment readErrno;
    private final MemorySegment writeErrno;
    private final MemorySegment msg;
    private final MemorySegment control;

    // Reader state (guarded by PipeChannel's read lock).
    private boolean messageComplete = true;
    private Arena reassemblyArena;
    private MemorySegment reassembly;
    private long reassemblyLength;
    private long reassemblyPosition;

    private volatile long peerPid = -1;
    private boolean released;

    UringTransport(IoUringEngine engine, int fd, PipeMode mode) {
        this.engine = engine;
        this.sq = engine.sq;
        this.fd = fd;
        this.mode = mode;
        this.readErrno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
        this.writeErrno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
        if (mode == PipeMode.MESSAGE) {
            this.msg = msghdr.allocate(arena);
            this.control = arena.allocate(CONTROL_SIZE, 8);
        } else {
            this.msg = null;
            this.control = null;
        }
        this.readOp = engine.table.allocate();
        this.writeOp = engine.table.allocate();
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    @Override
    public boolean lendsBuffersToKernel() {
        return true; // an IORING_OP_RECV/SEND keeps the address until its CQE
    }

    // ---- reads ---------------------------------------------------------------------------------

    @Override
    public int read(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        long address = addressOf(buf, offset, length);
        return mode == PipeMode.MESSAGE
                ? readMessage(buf, offset, address, length, timeoutNanos)
                : readBytes(address, length, timeoutNanos);
    }

    private int readBytes(long address, int length, long timeoutNanos) throws IOException {
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        long spinUntil = start + Math.min(IoUringEngine.SPIN_NANOS, timeoutNanos < 0 ? Long.MAX_VALUE : timeoutNanos);
        for (;;) {
            long n = LibC.recv(readErrno, fd, address, length, MSG_DONTWAIT);
            if (n > 0) {
                return (int) n;
            }
            if (n == 0) {
                return -1; // orderly shutdown by the peer
            }
            int e = LibC.errno(readErrno);
            if (e == Errnos.EAGAIN && spinning(spinUntil)) {
                continue;
            }
            if (e == Errnos.EAGAIN) {
                readOp.arm();
                sq.recv(fd, address, length, 0, readOp.id());
                int outcome = readOp.await(remaining(deadline, timeoutNanos), engine.canceller, gate);
                int res = readOp.result();
                if (isCancelled(res)) {
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
    }

    private int readMessage(MemorySegment buf, long offset, long address, int length, long timeoutNanos)
            throws IOException {
        if (reassemblyPosition < reassemblyLength) {
            return handOutReassembled(buf, offset, length);
        }
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            long n = LibC.recv(readErrno, fd, address, length, MSG_DONTWAIT | PEEK_FLAGS);
            if (n < 0) {
                int e = LibC.errno(readErrno);
                if (e == Errnos.EAGAIN) {
                    readOp.arm();
                    sq.recv(fd, address, length, PEEK_FLAGS, readOp.id());
                    int outcome = readOp.await(remaining(deadline, timeoutNanos), engine.canceller, gate);
                    int res = readOp.result();
                    if (outcome == Operation.CLOSED || outcome == Operation.INTERRUPTED) {
                        throw Operation.failure(outcome, "read");
                    }
                    if (isCancelled(res)) {
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
                        messageComplete = true;
                        return -1;
                    }
                    throw Errnos.exception("read", e);
                }
            }
            // n: full length of the next message (its first min(n, length) bytes are in buf), or 0.
            if (n == 0) {
                if (isEndOfStream()) {
                    messageComplete = true;
                    return -1;
                }
                consume(0);
                messageComplete = true;
                return 0;
            }
            if (n <= length) {
                consume(0); // drop it: the bytes are already in place from the peek
                messageComplete = true;
                return (int) n;
            }
            return reassemble(buf, offset, length, n);
        }
    }

    /** Dequeues the message at the head of the queue into {@code address} (0/0 to discard it). */
    private long consume(long address) throws IOException {
        long r = LibC.recv(readErrno, fd, address, address == 0 ? 0 : reassembly.byteSize(), MSG_DONTWAIT);
        if (r < 0) {
            throw Errnos.exception("read", LibC.errno(readErrno)); // cannot happen: we hold the read lock and peeked it
        }
        return r;
    }

    private int reassemble(MemorySegment buf, long offset, int length, long messageLength) throws IOException {
        if (reassembly == null || reassembly.byteSize() < messageLength) {
            freeReassembly();
            long size = Math.max(messageLength, 64 * 1024);
            reassemblyArena = Arena.ofShared();
            reassembly = reassemblyArena.allocate(size, 64);
        }
        long got = consume(reassembly.address());
        reassemblyLength = got;
        reassemblyPosition = 0;
        return handOutReassembled(buf, offset, length);
    }

    private int handOutReassembled(MemorySegment buf, long offset, int length) {
        int n = (int) Math.min(length, reassemblyLength - reassemblyPosition);
        MemorySegment.copy(reassembly, reassemblyPosition, buf, offset, n);
        reassemblyPosition += n;
        messageComplete = reassemblyPosition == reassemblyLength;
        if (messageComplete) {
            reassemblyPosition = reassemblyLength = 0;
        }
        return n;
    }

    /**
     * After a SEQPACKET peek returned 0: whether that is end of stream rather than an empty
     * message. Every queued message carries SCM_CREDENTIALS (SO_PASSCRED); end of stream has no
     * message and so no control data.
     */
    private boolean isEndOfStream() throws IOException {
        msghdr.msg_name(msg, MemorySegment.NULL);
        msghdr.msg_namelen(msg, 0);
        msghdr.msg_iov(msg, MemorySegment.NULL);
        msghdr.msg_iovlen(msg, 0);
        msghdr.msg_control(msg, control);
        msghdr.msg_controllen(msg, CONTROL_SIZE);
        msghdr.msg_flags(msg, 0);
        long r = LibC.recvmsg(readErrno, fd, msg, MSG_PEEK | MSG_DONTWAIT);
        if (r < 0) {
            int e = LibC.errno(readErrno);
            if (e == Errnos.ECONNRESET || e == Errnos.ENOTCONN) {
                return true;
            }
            throw Errnos.exception("read", e);
        }
        return msghdr.msg_controllen(msg) == 0;
    }

    @Override
    public boolean isMessageComplete() {
        return messageComplete;
    }

    // ---- writes --------------------------------------------------------------------------------

    @Override
    public int write(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        long address = addressOf(buf, offset, length);
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            long n = LibC.send(writeErrno, fd, address, length, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) {
                return (int) n;
            }
            int e = LibC.errno(writeErrno);
            if (e == Errnos.EAGAIN) {
                writeOp.arm();
                sq.send(fd, address, length, MSG_NOSIGNAL, writeOp.id());
                int outcome = writeOp.await(remaining(deadline, timeoutNanos), engine.canceller, gate);
                int res = writeOp.result();
                if (isCancelled(res)) {
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
            throw writeFailure(e, length);
        }
    }

    private PipeException writeFailure(int e, int length) {
        if (e == Errnos.EPIPE || e == Errnos.ECONNRESET || e == Errnos.ENOTCONN) {
            return new PipeException("write", Errnos.EPIPE, "EPIPE",
                    LibC.strerror(Errnos.EPIPE) + ": the other end closed the pipe");
        }
        if (e == Errnos.EMSGSIZE) {
            return Errnos.exception("write of a " + length + "-byte message", e,
                    "a SOCK_SEQPACKET message must fit the socket's send buffer; raise it with "
                            + "PipeOptions.withBufferSizes (capped by /proc/sys/net/core/wmem_max)");
        }
        return Errnos.exception("write", e);
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

    /**
     * Whether to retry a non-blocking read once more before parking: a reply often arrives within
     * microseconds, and a park costs several thread wake-ups (see {@link IoUringEngine#SPIN_NANOS}).
     * Bounded in time, so an idle connection costs one short spin per read, not a busy loop; a
     * closing pipe or an interrupted thread stops it at once.
     */
    private boolean spinning(long spinUntil) {
        if (System.nanoTime() - spinUntil >= 0 || gate.isClosing() || Thread.currentThread().isInterrupted()) {
            return false;
        }
        Thread.onSpinWait();
        return true;
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
            try (Arena temp = Arena.ofConfined()) {
                MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
                MemorySegment cred = temp.allocate(ucred.layout());
                UnixSockets.peerCred(errno, fd, cred, temp.allocate(Integer.BYTES));
                pid = ucred.pid(cred);
            }
            peerPid = pid;
        }
        return pid;
    }

    @Override
    public void wakeAll() {
        readOp.wakeWaiter();
        writeOp.wakeWaiter();
    }

    @Override
    public void release() throws IOException {
        if (released) {
            return;
        }
        released = true;
        try {
            UnixSockets.closeQuietly(readErrno, fd);
        } finally {
            engine.table.release(readOp);
            engine.table.release(writeOp);
            freeReassembly();
            arena.close();
        }
    }

    private void freeReassembly() {
        if (reassemblyArena != null) {
            reassemblyArena.close();
            reassemblyArena = null;
            reassembly = null;
        }
    }

    int fd() {
        return fd;
    }
}

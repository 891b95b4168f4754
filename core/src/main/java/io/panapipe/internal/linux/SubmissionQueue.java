package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.io_uring_sqe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The submission side of a {@link Ring}: fills SQEs and hands them to the kernel, from any thread.
 *
 * <p>Two locks, both {@code java.util.concurrent} (virtual threads park on them without pinning):
 * <ul>
 *   <li>{@code ringLock} guards the SQE slots and the local tail; held only while one SQE is
 *       written and the tail published with release semantics (DESIGN rule 10).</li>
 *   <li>{@code enterLock} serialises {@code io_uring_enter(to_submit=n)} and owns its errno
 *       segment. Whoever holds it takes the count of every SQE published so far, so SQEs queued by
 *       other threads while one {@code io_uring_enter} runs go to the kernel together in the next
 *       one (a thread finding the count already taken skips the syscall: its SQE went with
 *       another's).</li>
 * </ul>
 * {@code io_uring_enter} without {@code IORING_ENTER_GETEVENTS} does not block, so submitting is
 * safe on a virtual thread (DESIGN rule 8).
 */
final class SubmissionQueue {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private static final long OFF_OPCODE = io_uring_sqe.opcode$offset();
    private static final long OFF_FLAGS = io_uring_sqe.flags$offset();
    private static final long OFF_IOPRIO = io_uring_sqe.ioprio$offset();
    private static final long OFF_FD = io_uring_sqe.fd$offset();
    private static final long OFF_OFF = io_uring_sqe.off$offset();
    private static final long OFF_ADDR = io_uring_sqe.addr$offset();
    private static final long OFF_LEN = io_uring_sqe.len$offset();
    private static final long OFF_OP_FLAGS = io_uring_sqe.msg_flags$offset(); // the union of per-op flags
    private static final long OFF_USER_DATA = io_uring_sqe.user_data$offset();
    private static final long SQE_SIZE = io_uring_sqe.sizeof();

    private static final byte OP_RECV = (byte) Linux.IORING_OP_RECV();
    private static final byte OP_SEND = (byte) Linux.IORING_OP_SEND();
    private static final byte OP_ACCEPT = (byte) Linux.IORING_OP_ACCEPT();
    private static final byte OP_ASYNC_CANCEL = (byte) Linux.IORING_OP_ASYNC_CANCEL();
    private static final byte OP_NOP = (byte) Linux.IORING_OP_NOP();

    private final int ringFd;
    private final MemorySegment ring;
    private final MemorySegment sqes;
    private final long headOffset;
    private final long tailOffset;
    private final int mask;
    private final int entries;
    private final MemorySegment enterErrno;

    private final ReentrantLock ringLock = new ReentrantLock();
    private final ReentrantLock enterLock = new ReentrantLock();
    private final AtomicInteger unsubmitted = new AtomicInteger();
    private int tail; // guarded by ringLock; the published tail

    SubmissionQueue(int ringFd, MemorySegment ring, MemorySegment sqes, int headOffset, int tailOffset,
                    int maskOffset, int entriesOffset, int arrayOffset, MemorySegment enterErrno) {
        this.ringFd = ringFd;
        this.ring = ring;
        this.sqes = sqes;
        this.headOffset = headOffset;
        this.tailOffset = tailOffset;
        this.mask = ring.get(ValueLayout.JAVA_INT, maskOffset);
        this.entries = ring.get(ValueLayout.JAVA_INT, entriesOffset);
        this.enterErrno = enterErrno;
        this.tail = (int) INT.getAcquire(ring, this.tailOffset);
        // The indirection array maps ring slot i to SQE i, once and for all (as liburing does).
        for (int i = 0; i < entries; i++) {
            ring.setAtIndex(ValueLayout.JAVA_INT, arrayOffset / Integer.BYTES + i, i);
        }
    }

    /** {@code IORING_OP_RECV}: receive up to {@code length} bytes at {@code address}. */
    void recv(int fd, long address, int length, int msgFlags, long userData) {
        submit(OP_RECV, fd, address, length, 0L, msgFlags, userData);
    }

    /** {@code IORING_OP_SEND}: send {@code length} bytes at {@code address}. */
    void send(int fd, long address, int length, int msgFlags, long userData) {
        submit(OP_SEND, fd, address, length, 0L, msgFlags, userData);
    }

    /** {@code IORING_OP_ACCEPT} without a peer address; {@code flags} as for {@code accept4}. */
    void accept(int fd, int flags, long userData) {
        submit(OP_ACCEPT, fd, 0L, 0, 0L, flags, userData);
    }

    /** {@code IORING_OP_ASYNC_CANCEL} of the request whose user_data is {@code target}. */
    void cancel(long target, long userData) {
        submit(OP_ASYNC_CANCEL, -1, target, 0, 0L, 0, userData);
    }

    /** {@code IORING_OP_NOP}: a completion carrying {@code userData} (used to stop the poller). */
    void nop(long userData) {
        submit(OP_NOP, -1, 0L, 0, 0L, 0, userData);
    }

    private void submit(byte opcode, int fd, long addr, int len, long off, int opFlags, long userData) {
        for (;;) {
            ringLock.lock();
            try {
                int head = (int) INT.getAcquire(ring, headOffset);
                if (tail - head != entries) {
                    long sqe = (long) (tail & mask) * SQE_SIZE;
                    for (long i = 0; i < SQE_SIZE; i += Long.BYTES) {
                        sqes.set(ValueLayout.JAVA_LONG, sqe + i, 0L);
                    }
                    sqes.set(ValueLayout.JAVA_BYTE, sqe + OFF_OPCODE, opcode);
                    sqes.set(ValueLayout.JAVA_BYTE, sqe + OFF_FLAGS, (byte) 0);
                    sqes.set(ValueLayout.JAVA_SHORT, sqe + OFF_IOPRIO, (short) 0);
                    sqes.set(ValueLayout.JAVA_INT, sqe + OFF_FD, fd);
                    sqes.set(ValueLayout.JAVA_LONG, sqe + OFF_OFF, off);
                    sqes.set(ValueLayout.JAVA_LONG, sqe + OFF_ADDR, addr);
                    sqes.set(ValueLayout.JAVA_INT, sqe + OFF_LEN, len);
                    sqes.set(ValueLayout.JAVA_INT, sqe + OFF_OP_FLAGS, opFlags);
                    sqes.set(ValueLayout.JAVA_LONG, sqe + OFF_USER_DATA, userData);
                    tail++;
                    INT.setRelease(ring, tailOffset, tail); // the kernel reads the SQE after this store
                    unsubmitted.incrementAndGet();
                    break;
                }
            } finally {
                ringLock.unlock();
            }
            // Full: hand what is queued to the kernel, which consumes it during the call, then retry.
            flush();
            Thread.onSpinWait();
        }
        flush();
    }

    /**
     * Submits every published SQE not yet submitted. Returns when the kernel has consumed them, or
     * at once if another thread's {@code io_uring_enter} has taken them.
     */
    void flush() {
        if (unsubmitted.get() == 0) {
            return;
        }
        enterLock.lock();
        try {
            int n = unsubmitted.getAndSet(0);
            while (n > 0) {
                int r = LibC.ioUringEnter(enterErrno, ringFd, n, 0, 0);
                if (r >= 0) {
                    n -= r; // without IORING_SETUP_SUBMIT_ALL a failing SQE ends the batch early
                    if (r == 0) {
                        Thread.onSpinWait();
                    }
                    continue;
                }
                int e = LibC.errno(enterErrno);
                if (e == Errnos.EINTR || e == Errnos.EAGAIN || e == Errnos.EBUSY) {
                    // EBUSY/EAGAIN: completions are backed up (IORING_FEAT_NODROP keeps them); the
                    // poller is draining them. Give it a moment and retry.
                    Thread.yield();
                    continue;
                }
                throw new IllegalStateException("io_uring_enter(to_submit=" + n + ") failed: " + Errnos.describe(e));
            }
        } finally {
            enterLock.unlock();
        }
    }

    int entries() {
        return entries;
    }
}

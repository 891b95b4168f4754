package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.io_uring_sqe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The submission side of a {@link Ring}: fills SQEs from any thread; only the {@link Issuer} (the
 * poller thread) hands them to the kernel with {@code io_uring_enter}.
 *
 * <p>{@code ringLock} ({@code java.util.concurrent}, so virtual threads park on it without
 * pinning) guards the SQE slots and the local tail; it is held only while one SQE is written and
 * the tail published. The tail is published with a volatile store (release, and ordered before
 * the issuer's "sleeping" flag is read: ring indices shared with the kernel are published with
 * release, DESIGN rule 10, plus the Dekker handshake in
 * {@link Poller}); then the issuer is told, which wakes it only if it is (about to be) blocked. No
 * caller thread makes a blocking call, or any {@code io_uring_enter} at all: a blocking downcall
 * would pin a virtual thread's carrier (DESIGN rule 8).
 *
 * <p>Once the poller has failed the queue is {@link #shut}: every later request is refused
 * ({@code false}), so that nothing reaches the kernel that nobody would reap; only the failure's
 * own cancels ({@link #cancelAfterShut}) still go in.
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
    private static final byte OP_READ = (byte) Linux.IORING_OP_READ();

    /** The one thread that submits to the kernel. */
    interface Issuer {
        /** An SQE was published (any thread): make sure it reaches the kernel soon. */
        void published();

        /** The SQ is full (any thread): get the kernel to consume it; returns when the caller may retry. */
        void full();
    }

    private final int ringFd;
    private final MemorySegment ring;
    private final MemorySegment sqes;
    private final long headOffset;
    private final long tailOffset;
    private final int mask;
    private final int entries;

    private final ReentrantLock ringLock = new ReentrantLock();
    private int tail; // guarded by ringLock; the published tail
    private boolean shut; // guarded by ringLock
    private Issuer issuer;

    SubmissionQueue(int ringFd, MemorySegment ring, MemorySegment sqes, int headOffset, int tailOffset,
                    int maskOffset, int entriesOffset, int arrayOffset) {
        this.ringFd = ringFd;
        this.ring = ring;
        this.sqes = sqes;
        this.headOffset = headOffset;
        this.tailOffset = tailOffset;
        this.mask = ring.get(ValueLayout.JAVA_INT, maskOffset);
        this.entries = ring.get(ValueLayout.JAVA_INT, entriesOffset);
        this.tail = (int) INT.getAcquire(ring, this.tailOffset);
        // The indirection array maps ring slot i to SQE i, once and for all (as liburing does).
        for (int i = 0; i < entries; i++) {
            ring.setAtIndex(ValueLayout.JAVA_INT, arrayOffset / Integer.BYTES + i, i);
        }
    }

    /** Sets the thread that submits; before any SQE is written. */
    void issuer(Issuer issuer) {
        this.issuer = issuer;
    }

    /**
     * SQEs published but not yet consumed by the kernel. Reads the tail with a volatile load, so
     * that the issuer's preceding volatile store of its "sleeping" flag is ordered before it.
     */
    int pending() {
        return (int) INT.getVolatile(ring, tailOffset) - (int) INT.getAcquire(ring, headOffset);
    }

    /** {@code IORING_OP_READ} of {@code length} bytes into {@code address} (the poller's eventfd read). */
    boolean read(int fd, long address, int length, long userData) {
        return submit(OP_READ, fd, address, length, 0L, 0, userData);
    }

    /** {@code IORING_OP_RECV}: receive up to {@code length} bytes at {@code address}. */
    boolean recv(int fd, long address, int length, int msgFlags, long userData) {
        return submit(OP_RECV, fd, address, length, 0L, msgFlags, userData);
    }

    /** {@code IORING_OP_SEND}: send {@code length} bytes at {@code address}. */
    boolean send(int fd, long address, int length, int msgFlags, long userData) {
        return submit(OP_SEND, fd, address, length, 0L, msgFlags, userData);
    }

    /** {@code IORING_OP_ACCEPT} without a peer address; {@code flags} as for {@code accept4}. */
    boolean accept(int fd, int flags, long userData) {
        return submit(OP_ACCEPT, fd, 0L, 0, 0L, flags, userData);
    }

    /** {@code IORING_OP_ASYNC_CANCEL} of the request whose user_data is {@code target}. */
    boolean cancel(long target, long userData) {
        return submit(OP_ASYNC_CANCEL, -1, target, 0, 0L, 0, userData);
    }

    /** {@code IORING_OP_ASYNC_CANCEL} of {@code target} even after {@link #shut} (the failed poller's drain). */
    void cancelAfterShut(long target, long userData) {
        submit(OP_ASYNC_CANCEL, -1, target, 0, 0L, 0, userData, true);
    }

    /**
     * Refuses every later request but {@link #cancelAfterShut}: the poller failed. A request
     * published before this call is in the ring, and the failed poller hands it to the kernel
     * (and cancels it); one that comes after never reaches the kernel.
     */
    void shut() {
        ringLock.lock();
        try {
            shut = true;
        } finally {
            ringLock.unlock();
        }
    }

    /** {@code IORING_OP_NOP}: a completion carrying {@code userData} (used to stop the poller). */
    boolean nop(long userData) {
        return submit(OP_NOP, -1, 0L, 0, 0L, 0, userData);
    }

    private boolean submit(byte opcode, int fd, long addr, int len, long off, int opFlags, long userData) {
        return submit(opcode, fd, addr, len, off, opFlags, userData, false);
    }

    /** Writes and publishes one SQE; {@code false} if the queue is shut and this is not the drain's. */
    private boolean submit(byte opcode, int fd, long addr, int len, long off, int opFlags, long userData,
                           boolean evenIfShut) {
        for (;;) {
            boolean published = false;
            ringLock.lock();
            try {
                if (shut && !evenIfShut) {
                    return false;
                }
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
                    // The kernel reads the SQE after this store; volatile, so that it is ordered
                    // before the issuer's sleeping flag is read in published().
                    INT.setVolatile(ring, tailOffset, tail);
                    published = true;
                }
            } finally {
                ringLock.unlock();
            }
            if (published) {
                issuer.published();
                return true;
            }
            issuer.full();
        }
    }

    int entries() {
        return entries;
    }
}

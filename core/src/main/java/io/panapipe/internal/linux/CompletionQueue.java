package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.io_uring_cqe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The completion side of a {@link Ring}, read by the poller thread only. The tail is loaded with
 * acquire (the kernel stores it with release after writing the CQEs) and the head published
 * with release once the CQEs are read, so the kernel never overwrites an entry still being read
 * (DESIGN rule 10).
 */
final class CompletionQueue {
    /** Receives one completion; called on the poller thread, must not block or allocate. */
    interface Handler {
        void onCompletion(long userData, int res, int flags);
    }

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final long OFF_USER_DATA = io_uring_cqe.user_data$offset();
    private static final long OFF_RES = io_uring_cqe.res$offset();
    private static final long OFF_FLAGS = io_uring_cqe.flags$offset();
    private static final long CQE_SIZE = io_uring_cqe.sizeof();

    private final int ringFd;
    private final MemorySegment ring;
    private final long headOffset;
    private final long tailOffset;
    private final int mask;
    private final int entries;
    private final long cqesOffset;

    CompletionQueue(int ringFd, MemorySegment ring, int headOffset, int tailOffset, int maskOffset,
                    int entriesOffset, int cqesOffset) {
        this.ringFd = ringFd;
        this.ring = ring;
        this.headOffset = headOffset;
        this.tailOffset = tailOffset;
        this.mask = ring.get(ValueLayout.JAVA_INT, maskOffset);
        this.entries = ring.get(ValueLayout.JAVA_INT, entriesOffset);
        this.cqesOffset = cqesOffset;
    }

    /** Hands every available CQE to {@code handler}; returns how many there were. */
    int drain(Handler handler) {
        int head = (int) INT.getOpaque(ring, headOffset); // only this thread writes the head
        int tail = (int) INT.getAcquire(ring, tailOffset);
        int n = tail - head;
        if (n == 0) {
            return 0;
        }
        for (int h = head; h != tail; h++) {
            long cqe = cqesOffset + (long) (h & mask) * CQE_SIZE;
            long userData = ring.get(ValueLayout.JAVA_LONG, cqe + OFF_USER_DATA);
            int res = ring.get(ValueLayout.JAVA_INT, cqe + OFF_RES);
            int flags = ring.get(ValueLayout.JAVA_INT, cqe + OFF_FLAGS);
            INT.setRelease(ring, headOffset, h + 1); // slot free for the kernel once read
            handler.onCompletion(userData, res, flags);
        }
        return n;
    }

    /** Whether a CQE is waiting. */
    boolean hasCompletions() {
        return (int) INT.getAcquire(ring, tailOffset) != (int) INT.getOpaque(ring, headOffset);
    }

    int entries() {
        return entries;
    }

    int ringFd() {
        return ringFd;
    }
}

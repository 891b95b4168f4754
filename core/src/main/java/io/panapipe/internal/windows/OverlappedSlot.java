package io.panapipe.internal.windows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The native memory of one operation slot: an {@code OVERLAPPED} with the owning
 * {@link io.panapipe.internal.completion.Operation}'s id stored right after it, and the
 * {@code GetLastError} capture area of the calls that use it.
 *
 * <pre>
 *  offset  size
 *       0     8  OVERLAPPED.Internal      (NTSTATUS of the finished request; STATUS_PENDING while in flight)
 *       8     8  OVERLAPPED.InternalHigh  (bytes transferred)
 *      16     8  OVERLAPPED.Offset/OffsetHigh (union with Pointer; 0 for pipes)
 *      24     8  OVERLAPPED.hEvent         (0: completions go to the port)
 *      32     8  operation id             (read by the poller: lpOverlapped + 32)
 *      40    16  captureCallState area    (GetLastError, WSAGetLastError, errno: 12 bytes)
 *      56     4  DWORD out-parameter      (GetOverlappedResult's byte count, token lookups)
 *      60     4  DWORD out-parameter 2    (WSAGetOverlappedResult's flags)
 * </pre>
 *
 * The poller maps a dequeued {@code lpOverlapped} to its operation by reading the id at
 * {@code lpOverlapped + 32} and looking it up in the engine's
 * {@link io.panapipe.internal.completion.OperationTable} — no map, no allocation. The layout
 * is fixed here and checked against the bindings' {@code _OVERLAPPED} in the tests.
 */
final class OverlappedSlot {
    static final long OVERLAPPED_SIZE = 32;
    static final long INTERNAL_OFFSET = 0;
    static final long INTERNAL_HIGH_OFFSET = 8;
    static final long EVENT_OFFSET = 24;
    static final long OP_ID_OFFSET = 32;
    static final long CAPTURE_OFFSET = 40;
    static final long CAPTURE_CAPACITY = 16;
    static final long OUT_OFFSET = 56;
    static final long OUT2_OFFSET = 60;
    static final long SIZE = 64;
    static final long ALIGNMENT = 16;

    /** All of memory, to read a slot by raw address on the poller thread without making a segment. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final MemorySegment segment;
    private final MemorySegment capture;
    private final long address;

    /**
     * @param captureSize {@code Linker.Option.captureStateLayout().byteSize()} (at most 16)
     */
    OverlappedSlot(Arena arena, int opId, long captureSize) {
        if (captureSize > CAPTURE_CAPACITY) {
            throw new IllegalStateException("capture state of " + captureSize + " bytes does not fit the slot");
        }
        segment = arena.allocate(SIZE, ALIGNMENT);
        capture = segment.asSlice(CAPTURE_OFFSET, captureSize);
        address = segment.address();
        segment.set(ValueLayout.JAVA_LONG, OP_ID_OFFSET, opId);
    }

    /** The {@code OVERLAPPED*} to pass to the kernel. */
    long address() {
        return address;
    }

    MemorySegment segment() {
        return segment;
    }

    /** The capture area for calls made with this slot (used only by the thread that owns the slot). */
    MemorySegment capture() {
        return capture;
    }

    /** Zeroes the OVERLAPPED before a new request (the id after it stays). */
    void reset() {
        segment.set(ValueLayout.JAVA_LONG, 0, 0L);
        segment.set(ValueLayout.JAVA_LONG, 8, 0L);
        segment.set(ValueLayout.JAVA_LONG, 16, 0L);
        segment.set(ValueLayout.JAVA_LONG, 24, 0L);
    }

    /** {@code OVERLAPPED.InternalHigh}: bytes the finished request transferred. */
    int bytesTransferred() {
        return (int) segment.get(ValueLayout.JAVA_LONG, INTERNAL_HIGH_OFFSET);
    }

    /** Address of the slot's DWORD out-parameter. */
    long outAddress() {
        return address + OUT_OFFSET;
    }

    /** Address of the slot's second DWORD out-parameter. */
    long out2Address() {
        return address + OUT2_OFFSET;
    }

    int out() {
        return segment.get(ValueLayout.JAVA_INT, OUT_OFFSET);
    }

    int opId() {
        return (int) segment.get(ValueLayout.JAVA_LONG, OP_ID_OFFSET);
    }

    /** The operation id stored after the OVERLAPPED at {@code overlappedAddress} (poller thread). */
    static long opIdAt(long overlappedAddress) {
        return EVERYTHING.get(ValueLayout.JAVA_LONG_UNALIGNED, overlappedAddress + OP_ID_OFFSET);
    }

    /** {@code OVERLAPPED.Internal} (the request's NTSTATUS) at {@code overlappedAddress} (poller thread). */
    static long statusAt(long overlappedAddress) {
        return EVERYTHING.get(ValueLayout.JAVA_LONG_UNALIGNED, overlappedAddress + INTERNAL_OFFSET);
    }
}

package io.panapipe.internal.windows;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What {@link OverlappedIo} does after a request's synchronous return (pure decisions, any
 * platform). The synchronous {@code ERROR_MORE_DATA} case is a fallback: on the Windows versions
 * JDK 22 supports, an overflowing message read goes pending and its packet carries
 * {@code STATUS_BUFFER_OVERFLOW} (Wine dlls/ntdll/tests/pipe.c, test_completion, "win8+").
 */
class OverlappedIoDecisionTest {
    private static final int[] KINDS = {OverlappedIo.READ, OverlappedIo.WRITE, OverlappedIo.CONNECT, OverlappedIo.CUSTOM};

    @Test
    void pendingWaitsForItsPacket() {
        for (int kind : KINDS) {
            assertEquals(OverlappedIo.WAIT, OverlappedIo.next(kind, WinError.ERROR_IO_PENDING));
        }
    }

    @Test
    void aSynchronousMoreDataIsTakenInlineAndRetiresTheSlot() {
        assertEquals(OverlappedIo.FINAL_RETIRE, OverlappedIo.next(OverlappedIo.READ, WinError.ERROR_MORE_DATA));
        assertEquals(OverlappedIo.FINAL_RETIRE, OverlappedIo.next(OverlappedIo.CUSTOM, WinError.ERROR_MORE_DATA));
        // only reads (and foreign requests) can report ERROR_MORE_DATA as a partial transfer
        assertEquals(OverlappedIo.FINAL, OverlappedIo.next(OverlappedIo.WRITE, WinError.ERROR_MORE_DATA));
    }

    @Test
    void everythingElseIsFinal() {
        for (int kind : KINDS) {
            assertEquals(OverlappedIo.FINAL, OverlappedIo.next(kind, WinError.ERROR_SUCCESS));
            assertEquals(OverlappedIo.FINAL, OverlappedIo.next(kind, WinError.ERROR_BROKEN_PIPE));
            assertEquals(OverlappedIo.FINAL, OverlappedIo.next(kind, WinError.ERROR_PIPE_CONNECTED));
            assertEquals(OverlappedIo.FINAL, OverlappedIo.next(kind, WinError.ERROR_NO_DATA));
        }
    }

    @Test
    void anInlineMoreDataCountNeverUnderstatesAFilledBuffer() {
        assertEquals(1024, OverlappedIo.inlineMoreDataBytes(1024, 1024), "InternalHigh agrees with a filled buffer");
        assertEquals(700, OverlappedIo.inlineMoreDataBytes(700, 1024), "a smaller count the system reported is kept");
        // not set (left 0 by OverlappedSlot.reset) or out of range: the buffer was filled, say so
        assertEquals(1024, OverlappedIo.inlineMoreDataBytes(0, 1024));
        assertEquals(1024, OverlappedIo.inlineMoreDataBytes(4096, 1024));
        assertEquals(1024, OverlappedIo.inlineMoreDataBytes(-1, 1024));
        assertEquals(0, OverlappedIo.inlineMoreDataBytes(0, 0));
        // a caller-issued request of unknown length: InternalHigh as it is, never negative
        assertEquals(77, OverlappedIo.inlineMoreDataBytes(77, -1));
        assertEquals(0, OverlappedIo.inlineMoreDataBytes(-5, -1));
    }
}

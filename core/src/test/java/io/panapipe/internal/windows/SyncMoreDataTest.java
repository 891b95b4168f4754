package io.panapipe.internal.windows;

import io.panapipe.internal.windows.SyncMoreData.Observation;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The synchronous-ERROR_MORE_DATA decisions, on any platform. */
class SyncMoreDataTest {
    @Test
    void probeObservationsGiveTheAnswer() {
        assertEquals(SyncMoreData.PACKET, SyncMoreData.decide(Observation.PACKET_CAME, null));
        assertEquals(SyncMoreData.NO_PACKET, SyncMoreData.decide(Observation.NO_PACKET_WITHIN_WAIT, null));
        assertEquals(SyncMoreData.UNKNOWN, SyncMoreData.decide(Observation.FAILED, null));
        // a pended read observes nothing: retry once, then the safe default
        assertTrue(SyncMoreData.retry(Observation.PENDED));
        assertFalse(SyncMoreData.retry(Observation.FAILED));
        assertFalse(SyncMoreData.retry(Observation.PACKET_CAME));
        assertEquals(SyncMoreData.UNKNOWN, SyncMoreData.decide(Observation.PENDED, null));
        assertEquals(SyncMoreData.UNKNOWN, SyncMoreData.decide(Observation.PENDED, Observation.PENDED));
        assertEquals(SyncMoreData.UNKNOWN, SyncMoreData.decide(Observation.PENDED, Observation.FAILED));
        assertEquals(SyncMoreData.PACKET, SyncMoreData.decide(Observation.PENDED, Observation.PACKET_CAME));
        assertEquals(SyncMoreData.NO_PACKET, SyncMoreData.decide(Observation.PENDED, Observation.NO_PACKET_WITHIN_WAIT));
    }

    @Test
    void aLatePacketMakesNoPacketUntrusted() {
        assertEquals(SyncMoreData.UNKNOWN, SyncMoreData.NO_PACKET.afterLatePacket());
        assertEquals(SyncMoreData.PACKET, SyncMoreData.PACKET.afterLatePacket());
        assertEquals(SyncMoreData.UNKNOWN, SyncMoreData.UNKNOWN.afterLatePacket());
    }

    @Test
    void readsActOnTheAnswer() {
        int more = WinError.ERROR_MORE_DATA;
        assertEquals(OverlappedIo.WAIT, OverlappedIo.next(OverlappedIo.READ, more, SyncMoreData.PACKET));
        assertEquals(OverlappedIo.FINAL, OverlappedIo.next(OverlappedIo.READ, more, SyncMoreData.NO_PACKET));
        assertEquals(OverlappedIo.FINAL_RETIRE, OverlappedIo.next(OverlappedIo.READ, more, SyncMoreData.UNKNOWN));
    }

    @Test
    void foreignRequestsAlwaysRetire() {
        for (SyncMoreData answer : SyncMoreData.values()) {
            assertEquals(OverlappedIo.FINAL_RETIRE, OverlappedIo.next(OverlappedIo.CUSTOM, WinError.ERROR_MORE_DATA, answer));
        }
    }

    @Test
    void everythingElseIsUnchanged() {
        for (SyncMoreData answer : SyncMoreData.values()) {
            for (int kind : new int[] {OverlappedIo.READ, OverlappedIo.WRITE, OverlappedIo.CONNECT, OverlappedIo.CUSTOM}) {
                assertEquals(OverlappedIo.WAIT, OverlappedIo.next(kind, WinError.ERROR_IO_PENDING, answer));
                assertEquals(OverlappedIo.FINAL, OverlappedIo.next(kind, WinError.ERROR_SUCCESS, answer));
                assertEquals(OverlappedIo.FINAL, OverlappedIo.next(kind, WinError.ERROR_BROKEN_PIPE, answer));
                assertEquals(OverlappedIo.FINAL, OverlappedIo.next(kind, WinError.ERROR_PIPE_CONNECTED, answer));
            }
            // only reads (and foreign requests) can report ERROR_MORE_DATA as a partial transfer
            assertEquals(OverlappedIo.FINAL, OverlappedIo.next(OverlappedIo.WRITE, WinError.ERROR_MORE_DATA, answer));
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

    @Test
    void theProbeCanBeSkipped() {
        assertNull(SyncMoreData.forced(null));
        assertNull(SyncMoreData.forced("probe"));
        assertEquals(SyncMoreData.PACKET, SyncMoreData.forced("packet"));
        assertEquals(SyncMoreData.NO_PACKET, SyncMoreData.forced("none"));
        assertEquals(SyncMoreData.UNKNOWN, SyncMoreData.forced("Unknown"));
        assertThrows(IllegalArgumentException.class, () -> SyncMoreData.forced("maybe"));
    }
}

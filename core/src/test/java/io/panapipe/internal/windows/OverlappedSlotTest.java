package io.panapipe.internal.windows;

import io.panapipe.bindings.windows._OVERLAPPED;
import io.panapipe.bindings.windows._OVERLAPPED_ENTRY;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.completion.OperationTable;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Slot layout and the poller's entry → operation mapping, on plain memory; runs everywhere. */
class OverlappedSlotTest {
    @Test
    void overlappedLayoutIsTheWindowsX64One() {
        assertEquals(32, _OVERLAPPED.sizeof());
        assertEquals(OverlappedSlot.OVERLAPPED_SIZE, _OVERLAPPED.sizeof());
        assertEquals(OverlappedSlot.INTERNAL_OFFSET, _OVERLAPPED.Internal$offset());
        assertEquals(OverlappedSlot.INTERNAL_HIGH_OFFSET, _OVERLAPPED.InternalHigh$offset());
        assertEquals(16, _OVERLAPPED.Offset$offset());
        assertEquals(16, _OVERLAPPED.Pointer$offset());
        assertEquals(OverlappedSlot.EVENT_OFFSET, _OVERLAPPED.hEvent$offset());
        assertEquals(OverlappedSlot.OVERLAPPED_SIZE, OverlappedSlot.OP_ID_OFFSET, "op id right after the OVERLAPPED");
        assertTrue(OverlappedSlot.CAPTURE_OFFSET >= OverlappedSlot.OP_ID_OFFSET + 8);
        assertTrue(OverlappedSlot.OUT_OFFSET >= OverlappedSlot.CAPTURE_OFFSET + OverlappedSlot.CAPTURE_CAPACITY);
        assertTrue(OverlappedSlot.OUT_OFFSET + 4 <= OverlappedSlot.SIZE);
    }

    @Test
    void overlappedEntryLayoutMatchesThePoller() {
        assertEquals(IocpPoller.ENTRY_SIZE, _OVERLAPPED_ENTRY.sizeof());
        assertEquals(IocpPoller.ENTRY_KEY_OFFSET, _OVERLAPPED_ENTRY.lpCompletionKey$offset());
        assertEquals(IocpPoller.ENTRY_OVERLAPPED_OFFSET, _OVERLAPPED_ENTRY.lpOverlapped$offset());
        assertEquals(IocpPoller.ENTRY_INTERNAL_OFFSET, _OVERLAPPED_ENTRY.Internal$offset());
        assertEquals(IocpPoller.ENTRY_BYTES_OFFSET, _OVERLAPPED_ENTRY.dwNumberOfBytesTransferred$offset());
    }

    @Test
    void slotStoresItsOperationIdAfterTheOverlapped() {
        try (Arena arena = Arena.ofConfined()) {
            OverlappedSlot slot = new OverlappedSlot(arena, 4242, Linker.Option.captureStateLayout().byteSize());
            assertEquals(0, slot.address() % OverlappedSlot.ALIGNMENT);
            assertEquals(4242, OverlappedSlot.opIdAt(slot.address()));
            assertEquals(4242, slot.opId());
            slot.segment().set(ValueLayout.JAVA_LONG, 0, 0x103);  // STATUS_PENDING
            slot.segment().set(ValueLayout.JAVA_LONG, 8, 77);
            slot.segment().set(ValueLayout.JAVA_LONG, 24, 5);
            assertEquals(0x103, OverlappedSlot.statusAt(slot.address()));
            assertEquals(77, slot.bytesTransferred());
            slot.reset();
            for (long off = 0; off < 32; off += 8) {
                assertEquals(0, slot.segment().get(ValueLayout.JAVA_LONG, off));
            }
            assertEquals(4242, OverlappedSlot.opIdAt(slot.address()), "reset keeps the id");
            assertEquals(OverlappedSlot.CAPTURE_OFFSET, slot.capture().address() - slot.address());
        }
    }

    @Test
    void pollerMapsEntriesToOperationsWithoutTouchingOthers() {
        OperationTable table = new OperationTable();
        Operation a = table.allocate();
        Operation b = table.allocate();
        Operation idle = table.allocate();
        try (Arena arena = Arena.ofConfined()) {
            long cap = Linker.Option.captureStateLayout().byteSize();
            OverlappedSlot sa = new OverlappedSlot(arena, a.id(), cap);
            OverlappedSlot sb = new OverlappedSlot(arena, b.id(), cap);
            a.arm();
            b.arm();
            idle.arm();
            sb.segment().set(ValueLayout.JAVA_LONG, 0, 0x80000005L); // STATUS_BUFFER_OVERFLOW (ERROR_MORE_DATA)
            MemorySegment entries = arena.allocate(IocpPoller.ENTRY_SIZE * 3, 8);
            entry(entries, 0, 0, sa.address(), 11);
            entry(entries, 1, 0, sb.address(), 4096);
            assertFalse(IocpPoller.dispatchBatch(table, entries, 2));
            assertTrue(a.isDone());
            assertEquals(11, a.result());
            assertEquals(0, a.flags(), "STATUS_SUCCESS");
            assertTrue(b.isDone());
            assertEquals(4096, b.result());
            assertEquals(0x80000005, b.flags(), "non-zero status: the owner asks GetOverlappedResult");
            assertFalse(idle.isDone());

            entry(entries, 0, IocpPort.KEY_WAKE, 0, 0);
            assertTrue(IocpPoller.dispatchBatch(table, entries, 1), "a NULL OVERLAPPED with the wake key");
            entry(entries, 0, 0, 0, 0);
            assertFalse(IocpPoller.dispatchBatch(table, entries, 1));
        }
    }

    @Test
    void staleIdsAreIgnoredAndReleasedIdsAreReused() {
        OperationTable table = new OperationTable();
        Operation a = table.allocate();
        table.release(a);
        assertNull(table.get(a.id()));
        try (Arena arena = Arena.ofConfined()) {
            OverlappedSlot slot = new OverlappedSlot(arena, a.id(), 4);
            MemorySegment entries = arena.allocate(IocpPoller.ENTRY_SIZE, 8);
            entry(entries, 0, 0, slot.address(), 1);
            IocpPoller.dispatchBatch(table, entries, 1); // nobody to complete: no exception
            Operation again = table.allocate();
            assertEquals(a.id(), again.id());
        }
    }

    @Test
    void aPacketForAnUnarmedOperationIsDropped() {
        OperationTable table = new OperationTable();
        Operation retired = table.allocate();
        retired.arm();
        retired.completeInline(1024, WinError.ERROR_MORE_DATA); // a synchronous ERROR_MORE_DATA taken inline
        try (Arena arena = Arena.ofConfined()) {
            OverlappedSlot slot = new OverlappedSlot(arena, retired.id(), 4);
            slot.segment().set(ValueLayout.JAVA_LONG, 0, 0x80000005L);
            MemorySegment entries = arena.allocate(IocpPoller.ENTRY_SIZE, 8);
            entry(entries, 0, 0, slot.address(), 777);
            assertFalse(IocpPoller.dispatchBatch(table, entries, 1));
            assertTrue(retired.isDone());
            assertEquals(1024, retired.result(), "the late packet did not overwrite the inline result");
            assertEquals(WinError.ERROR_MORE_DATA, retired.flags());
        }
    }

    @Test
    void thePollerDispatchesOnlyCountsTheCallCanHaveWritten() {
        assertEquals(0, IocpPoller.entriesToDispatch(0), "zeroed before the call and left alone");
        assertEquals(1, IocpPoller.entriesToDispatch(1));
        assertEquals(IocpPoller.BATCH, IocpPoller.entriesToDispatch(IocpPoller.BATCH));
        assertEquals(0, IocpPoller.entriesToDispatch(IocpPoller.BATCH + 1));
        assertEquals(0, IocpPoller.entriesToDispatch(-1));
    }

    private static void entry(MemorySegment entries, int i, long key, long overlapped, int bytes) {
        long base = i * IocpPoller.ENTRY_SIZE;
        entries.set(ValueLayout.JAVA_LONG, base + IocpPoller.ENTRY_KEY_OFFSET, key);
        entries.set(ValueLayout.JAVA_LONG, base + IocpPoller.ENTRY_OVERLAPPED_OFFSET, overlapped);
        entries.set(ValueLayout.JAVA_INT, base + IocpPoller.ENTRY_BYTES_OFFSET, bytes);
    }
}

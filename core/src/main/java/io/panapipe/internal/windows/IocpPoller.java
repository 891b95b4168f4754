package io.panapipe.internal.windows;

import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.completion.OperationTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.LockSupport;

/**
 * One platform thread blocked in {@code GetQueuedCompletionStatusEx}: it dequeues up to
 * {@link #BATCH} packets at a time into a pre-allocated {@code OVERLAPPED_ENTRY} array and
 * completes each packet's {@link Operation}, found through the id stored after its OVERLAPPED
 * ({@link OverlappedSlot#opIdAt}). Nothing is allocated per packet, and nothing but this thread
 * ever blocks in the kernel (a blocking downcall would pin a virtual thread's carrier; DESIGN
 * rule 8).
 *
 * <p>What the documentation of {@code GetQueuedCompletionStatusEx} says: it returns TRUE when at
 * least one pending I/O has completed, though some of those may have failed (each entry's status
 * must be checked: here the request's {@code OVERLAPPED.Internal}); with a finite wait it times
 * out and returns FALSE; {@code ulNumEntriesRemoved} receives the number of entries removed.
 * It does not say in so many words that a FALSE return removed nothing, so the count is zeroed
 * before each call and whatever count comes back is dispatched, TRUE or FALSE
 * ({@link #entriesToDispatch}): an entry removed and then ignored would leave its owner waiting
 * forever (a pending request always gets its completion, and its owner waits for it; DESIGN
 * rule 1), while a count the call did not write stays 0. (With the older
 * {@code GetQueuedCompletionStatus}, a FALSE return with a non-NULL OVERLAPPED is a failed
 * request, not a port failure; this engine does not use that call.)
 */
final class IocpPoller implements Runnable {
    static final int BATCH = 128;
    /** {@code sizeof(OVERLAPPED_ENTRY)} on Windows x64 and its field offsets. */
    static final long ENTRY_SIZE = 32;
    static final long ENTRY_KEY_OFFSET = 0;
    static final long ENTRY_OVERLAPPED_OFFSET = 8;
    static final long ENTRY_INTERNAL_OFFSET = 16;
    static final long ENTRY_BYTES_OFFSET = 24;
    private static final int INFINITE = -1;

    private final IocpEngine engine;
    private final IocpPort port;
    private final Win32Api api;
    private final OperationTable table;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment entries;
    private final MemorySegment removed;
    private final MemorySegment capture;
    private volatile boolean stopping;
    private final Thread thread;

    IocpPoller(IocpEngine engine, IocpPort port, OperationTable table, String name) {
        this.engine = engine;
        this.port = port;
        this.api = port.api();
        this.table = table;
        this.entries = arena.allocate(ENTRY_SIZE * BATCH, 8);
        this.removed = arena.allocate(ValueLayout.JAVA_INT);
        this.capture = api.newCapture(arena);
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this);
    }

    void start() {
        thread.start();
    }

    /** Asks the thread to stop at its next wake-up packet; the caller posts the packet. */
    void requestStop() {
        stopping = true;
    }

    /** @return whether the thread has ended within {@code millis} */
    boolean join(long millis) throws InterruptedException {
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    @Override
    public void run() {
        try {
            int failures = 0;
            while (true) {
                removed.set(ValueLayout.JAVA_INT, 0, 0);
                int ok = api.getQueuedCompletionStatusEx(capture, port.handle(), entries.address(), BATCH,
                        removed.address(), INFINITE, 0);
                int n = entriesToDispatch(removed.get(ValueLayout.JAVA_INT, 0));
                boolean wake = n > 0 && dispatchBatch(table, entries, n);
                if (wake && stopping) {
                    return;
                }
                if (ok == 0) {
                    int error = api.lastError(capture);
                    if (stopping) {
                        return;
                    }
                    if (error == WinError.ERROR_ABANDONED_WAIT_0 || error == WinError.ERROR_INVALID_HANDLE) {
                        // the port is gone while requests may still wait for it: fail them, loudly
                        throw WinError.exception("GetQueuedCompletionStatusEx (the port closed under the poller)", error);
                    }
                    if (error != WinError.WAIT_TIMEOUT && ++failures > 3) {
                        LockSupport.parkNanos(1_000_000); // never spin on a persistent failure
                    }
                    continue;
                }
                failures = 0;
            }
        } catch (Throwable t) {
            // Whatever it was, nobody would dequeue packets any more: every waiter would park
            // forever. Fail the engine instead (issue 10, defect 7) and let the thread end with it.
            if (!stopping) {
                engine.pollerDied(thread.getName(), t);
            }
            if (t instanceof Error e && !(t instanceof StackOverflowError)) {
                throw e;
            }
        } finally {
            arena.close();
        }
    }

    /**
     * How many entries of the array to dispatch after a call that reported {@code removed}:
     * that count, kept within the array (a value outside it is not an entry count the call can
     * have written, so nothing is read from the array for it).
     */
    static int entriesToDispatch(int removed) {
        return removed > 0 && removed <= BATCH ? removed : 0;
    }

    /**
     * Completes the operations of {@code n} dequeued entries; pure memory work, no system call.
     *
     * @return whether a wake-up packet (NULL OVERLAPPED, key {@link IocpPort#KEY_WAKE}) was among them
     */
    static boolean dispatchBatch(OperationTable table, MemorySegment entries, int n) {
        boolean wake = false;
        for (int i = 0; i < n; i++) {
            long base = i * ENTRY_SIZE;
            long overlapped = entries.get(ValueLayout.JAVA_LONG, base + ENTRY_OVERLAPPED_OFFSET);
            if (overlapped == 0) {
                wake |= entries.get(ValueLayout.JAVA_LONG, base + ENTRY_KEY_OFFSET) == IocpPort.KEY_WAKE;
                continue;
            }
            Operation op = table.get(OverlappedSlot.opIdAt(overlapped));
            // An operation that is done is not armed: nobody waits for a packet for it. That is a
            // retired slot whose synchronous ERROR_MORE_DATA was taken inline (OverlappedIo rule 3)
            // getting its packet after all: drop it, so it can never complete a later request.
            if (op != null && !op.isDone()) {
                // status 0 = STATUS_SUCCESS; anything else is turned into a Win32 code by the owner
                // (GetOverlappedResult), which also handles warnings such as STATUS_BUFFER_OVERFLOW
                op.complete(entries.get(ValueLayout.JAVA_INT, base + ENTRY_BYTES_OFFSET),
                        (int) OverlappedSlot.statusAt(overlapped));
            }
        }
        return wake;
    }
}

package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The ring itself: setup, teardown, submission and reaping, without sockets. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RingTest {

    @BeforeAll
    static void requireIoUring() {
        assumeTrue(IoUringEngine.unavailableReason() == null, () -> "io_uring unavailable: " + IoUringEngine.unavailableReason());
    }

    static int openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    @Test
    void probeSaysAvailable() {
        assertNull(IoUringEngine.unavailableReason());
    }

    @Test
    void ringsAreSetUpAndTornDownWithoutLeakingFds() throws Exception {
        try (Ring warm = Ring.open(8, 16)) {
            assertTrue(warm.fd >= 0);
        }
        int before = openFds();
        for (int i = 0; i < 50; i++) {
            try (Ring r = Ring.open(64, 4096)) {
                assertTrue(r.sq.entries() >= 64);
                assertTrue(r.cq.entries() >= 4096);
            }
        }
        assertEquals(before, openFds());
    }

    @Test
    void engineWithPollerStartsAndStopsWithoutLeakingFds() throws Exception {
        IoUringEngine warm = IoUringEngine.createPrivate(8, 16);
        warm.shutdown();
        int before = openFds();
        for (int i = 0; i < 10; i++) {
            IoUringEngine e = IoUringEngine.createPrivate(32, 256);
            // A NOP completion travels through the table to its operation.
            Operation op = e.table.allocate();
            op.arm();
            e.sq.nop(op.id());
            assertEquals(Operation.COMPLETED, op.await(TimeUnit.SECONDS.toNanos(10), e.canceller,
                    new io.panapipe.internal.completion.IoGate()));
            assertEquals(0, op.result());
            e.table.release(op);
            e.shutdown();
            assertTrue(!e.poller.thread().isAlive());
            assertNull(e.poller.failure());
        }
        assertEquals(before, openFds());
    }

    @Test
    void fullSubmissionQueueIsFlushedAndRetried() throws Exception {
        IoUringEngine e = IoUringEngine.createPrivate(4, 64); // tiny SQ: many NOPs must wrap it
        try {
            Operation[] ops = new Operation[40];
            for (int i = 0; i < ops.length; i++) {
                ops[i] = e.table.allocate();
                ops[i].arm();
                e.sq.nop(ops[i].id());
            }
            for (Operation op : ops) {
                op.awaitUninterruptibly();
                assertEquals(0, op.result());
                e.table.release(op);
            }
        } finally {
            e.shutdown();
        }
    }

    @Test
    void onlyThePollerEntersTheRing() throws Exception {
        IoUringEngine e = IoUringEngine.createPrivate(8, 64);
        try {
            assumeTrue((e.ring.setupFlags & Linux.IORING_SETUP_SINGLE_ISSUER()) != 0,
                    "kernel without IORING_SETUP_SINGLE_ISSUER");
            Operation op = e.table.allocate();
            op.arm();
            e.sq.nop(op.id()); // once it completes, the poller has enabled the ring
            assertEquals(Operation.COMPLETED, op.await(TimeUnit.SECONDS.toNanos(10), e.canceller, new IoGate()));
            e.table.release(op);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment errno = a.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
                assertEquals(-1, LibC.ioUringEnter(errno, e.ring.fd, 1, 0, 0)); // the SQ is empty: nothing would be submitted
                assertEquals(Linux.EEXIST(), LibC.errno(errno));
            }
        } finally {
            e.shutdown();
        }
    }

    @Test
    void submissionsFromManyThreadsNeverStrandWhileThePollerSleeps() throws Exception {
        IoUringEngine e = IoUringEngine.createPrivate(8, 256);
        try {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 8; t++) {
                boolean virtual = t % 2 == 0;
                Runnable body = () -> {
                    Operation op = e.table.allocate();
                    try {
                        for (int i = 0; i < 3000; i++) {
                            op.arm();
                            e.sq.nop(op.id());
                            assertEquals(Operation.COMPLETED,
                                    op.await(TimeUnit.SECONDS.toNanos(10), e.canceller, new IoGate()));
                        }
                    } catch (Throwable x) {
                        failures.add(x);
                    } finally {
                        e.table.release(op);
                    }
                };
                threads.add(virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(failures.isEmpty(), () -> failures.toString());
        } finally {
            e.shutdown();
        }
        assertNull(e.poller.failure());
    }
}

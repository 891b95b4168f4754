package io.panapipe.internal.windows;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The Windows model's own conformance tests: the facts of Wine's conformance tests (which run on
 * real Windows) and of the Win32 documentation that the IOCP engine relies on, re-expressed in our
 * own code against {@link WindowsModel}, so the model cannot drift into agreeing with the engine.
 * Each test names its source. These say nothing about the engine; they pin the model.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WindowsModelConformanceTest {
    private static final int OVERLAPPED = 0x40000000;
    private static final int FIRST_INSTANCE = 0x00080000;
    private static final int DUPLEX = 3;
    private static final int TYPE_MESSAGE = 4;
    private static final int READMODE_MESSAGE = 2;
    private static final int REJECT_REMOTE = 8;
    private static final int GENERIC_RW = 0xC0000000;
    private static final int OPEN_EXISTING = 3;
    private static final byte SKIP_ON_SUCCESS = 1;
    private static final long INVALID = -1L;

    private WindowsModel k;
    private Arena arena;
    private MemorySegment cap;
    private static int counter;

    @BeforeEach
    void setUp() {
        k = new WindowsModel();
        arena = Arena.ofShared();
        cap = k.newCapture(arena);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private String name() {
        return "\\\\.\\pipe\\conformance-" + (++counter);
    }

    private long wide(String s) {
        return arena.allocateFrom(s, StandardCharsets.UTF_16LE).address();
    }

    private long server(String name, int openFlags, int pipeMode, int maxInstances, int quota) {
        long h = k.createNamedPipeW(cap, wide(name), DUPLEX | OVERLAPPED | openFlags, pipeMode, maxInstances, quota,
                quota, 0, 0L);
        assertNotEquals(INVALID, h, "CreateNamedPipeW: " + k.lastError(cap));
        return h;
    }

    private long client(String name) {
        long h = k.createFileW(cap, wide(name), GENERIC_RW, 0, 0L, OPEN_EXISTING, OVERLAPPED, 0L);
        assertNotEquals(INVALID, h, "CreateFileW: " + k.lastError(cap));
        return h;
    }

    private int createFileError(String name) {
        assertEquals(INVALID, k.createFileW(cap, wide(name), GENERIC_RW, 0, 0L, OPEN_EXISTING, OVERLAPPED, 0L));
        return k.lastError(cap);
    }

    private MemorySegment ov() {
        return arena.allocate(64, 16);
    }

    private static long internal(MemorySegment ov) {
        return ov.get(ValueLayout.JAVA_LONG, 0);
    }

    private static long internalHigh(MemorySegment ov) {
        return ov.get(ValueLayout.JAVA_LONG, 8);
    }

    private long port() {
        long p = k.createIoCompletionPort(cap, INVALID, 0L, 0L, 0);
        assertNotEquals(0L, p);
        return p;
    }

    private void associate(long handle, long port, long key, boolean skip) {
        assertEquals(port, k.createIoCompletionPort(cap, handle, port, key, 0));
        if (skip) {
            assertEquals(1, k.setFileCompletionNotificationModes(cap, handle, SKIP_ON_SUCCESS));
        }
    }

    /** One packet within {@code millis}: {key, overlapped, bytes}; or null after WAIT_TIMEOUT. */
    private long[] dequeue(long port, int millis) {
        MemorySegment entries = arena.allocate(32L * 4, 8);
        MemorySegment removed = arena.allocate(ValueLayout.JAVA_INT);
        int ok = k.getQueuedCompletionStatusEx(cap, port, entries.address(), 1, removed.address(), millis, 0);
        if (ok == 0) {
            assertEquals(WinError.WAIT_TIMEOUT, k.lastError(cap));
            assertEquals(0, removed.get(ValueLayout.JAVA_INT, 0));
            return null;
        }
        assertEquals(1, removed.get(ValueLayout.JAVA_INT, 0));
        return new long[] {entries.get(ValueLayout.JAVA_LONG, 0), entries.get(ValueLayout.JAVA_LONG, 8),
                entries.get(ValueLayout.JAVA_INT, 24)};
    }

    private int write(long h, MemorySegment ov, String text) {
        MemorySegment data = arena.allocateFrom(text, StandardCharsets.US_ASCII).asSlice(0, text.length());
        return k.writeFile(cap, h, data.address(), text.length(), ov.address()) != 0 ? 0 : k.lastError(cap);
    }

    private int write(long h, MemorySegment ov, MemorySegment data) {
        return k.writeFile(cap, h, data.address(), (int) data.byteSize(), ov.address()) != 0 ? 0 : k.lastError(cap);
    }

    private int read(long h, MemorySegment ov, MemorySegment buf) {
        return k.readFile(cap, h, buf.address(), (int) buf.byteSize(), ov.address()) != 0 ? 0 : k.lastError(cap);
    }

    private int connect(long server, MemorySegment ov) {
        return k.connectNamedPipe(cap, server, ov.address()) != 0 ? 0 : k.lastError(cap);
    }

    /** A message pipe pair, as ntdll test_completion's create_pipe_pair: server in message read mode, client set to it. */
    private long[] messagePair(int quota) {
        String n = name();
        long s = server(n, 0, TYPE_MESSAGE | READMODE_MESSAGE, 1, quota);
        long c = client(n);
        MemorySegment mode = arena.allocateFrom(ValueLayout.JAVA_INT, READMODE_MESSAGE);
        assertEquals(1, k.setNamedPipeHandleState(cap, c, mode.address(), 0L, 0L));
        assertEquals(WinError.ERROR_PIPE_CONNECTED, connect(s, ov()));
        return new long[] {s, c};
    }

    private long[] bytePair(int quota) {
        String n = name();
        long s = server(n, 0, 0, 1, quota);
        long c = client(n);
        assertEquals(WinError.ERROR_PIPE_CONNECTED, connect(s, ov()));
        return new long[] {s, c};
    }

    // ---- ntdll test_completion ----------------------------------------------------------------

    /** ntdll test_completion: a synchronous success queues a packet, unless skip-on-success is set. */
    @Test
    void aSynchronousSuccessQueuesAPacketOnlyWithoutSkipOnSuccess() {
        long[] p = messagePair(4096);
        long port = port();
        associate(p[1], port, 0xdeadbeefL, false);
        MemorySegment ov = ov();
        assertEquals(0, write(p[1], ov, "testdata"));
        long[] packet = dequeue(port, 0);
        assertEquals(0xdeadbeefL, packet[0]);
        assertEquals(ov.address(), packet[1]);
        assertEquals(8, packet[2]);
        assertEquals(1, k.setFileCompletionNotificationModes(cap, p[1], SKIP_ON_SUCCESS));
        assertEquals(0, write(p[1], ov(), "testdata"));
        assertEquals(null, dequeue(port, 10));
    }

    /**
     * ntdll test_completion, "win8+": a message read into a buffer too small, on a skip-on-success
     * handle, returns pending; Status is STATUS_BUFFER_OVERFLOW and Information the bytes copied,
     * and exactly one packet comes; the rest of the message is then read synchronously, no packet.
     */
    @Test
    void anOverflowingMessageReadPendsAndQueuesOnePacket() {
        long[] p = messagePair(4096);
        long port = port();
        associate(p[1], port, 7, true);
        assertEquals(0, write(p[0], ov(), "testdata"));
        MemorySegment ov = ov();
        MemorySegment one = arena.allocate(1);
        assertEquals(WinError.ERROR_IO_PENDING, read(p[1], ov, one));
        assertEquals(WindowsModel.STATUS_BUFFER_OVERFLOW, (int) internal(ov));
        assertEquals(1, internalHigh(ov));
        long[] packet = dequeue(port, 0);
        assertEquals(ov.address(), packet[1]);
        assertEquals(1, packet[2]);
        assertEquals('t', one.get(ValueLayout.JAVA_BYTE, 0));
        MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
        assertEquals(0, k.getOverlappedResult(cap, p[1], ov.address(), out.address(), 0));
        assertEquals(WinError.ERROR_MORE_DATA, k.lastError(cap), "GetOverlappedResult maps the warning");

        MemorySegment rest = arena.allocate(16);
        MemorySegment ov2 = ov();
        assertEquals(0, read(p[1], ov2, rest));
        assertEquals(0, (int) internal(ov2));
        assertEquals(7, internalHigh(ov2));
        assertEquals(null, dequeue(port, 10));
    }

    /** ntdll test_completion, the pre-Windows-8 branch (a model option): the overflow returns at once, with no packet. */
    @Test
    void theLegacyOverflowReturnsAtOnceWithoutAPacket() {
        k.legacySynchronousOverflow = true;
        long[] p = messagePair(4096);
        long port = port();
        associate(p[1], port, 7, true);
        assertEquals(0, write(p[0], ov(), "testdata"));
        MemorySegment ov = ov();
        assertEquals(WinError.ERROR_MORE_DATA, read(p[1], ov, arena.allocate(1)));
        assertEquals(WindowsModel.STATUS_BUFFER_OVERFLOW, (int) internal(ov));
        assertEquals(1, internalHigh(ov));
        assertEquals(null, dequeue(port, 10));
    }

    /** ntdll test_completion: a read with nothing to read pends (Internal = STATUS_PENDING) and its packet comes with the data. */
    @Test
    void aPendingReadCompletesThroughThePort() {
        long[] p = messagePair(4096);
        long port = port();
        associate(p[1], port, 1, true);
        MemorySegment ov = ov();
        MemorySegment buf = arena.allocate(16);
        assertEquals(WinError.ERROR_IO_PENDING, read(p[1], ov, buf));
        assertEquals(WindowsModel.STATUS_PENDING, internal(ov));
        assertEquals(null, dequeue(port, 10));
        assertEquals(0, write(p[0], ov(), "testdata"));
        long[] packet = dequeue(port, 0);
        assertEquals(ov.address(), packet[1]);
        assertEquals(8, packet[2]);
        assertEquals(0, internal(ov));
    }

    // ---- kernel32 test_multiple_instances, ConnectNamedPipe ------------------------------------

    /**
     * k32 test_multiple_instances: a client takes the instance that has listened longest, whether
     * or not another one has a pending ConnectNamedPipe; ConnectNamedPipe on the instance a client
     * took says ERROR_PIPE_CONNECTED; with no instance listening CreateFile says ERROR_PIPE_BUSY.
     */
    @Test
    void clientsTakeInstancesInTheOrderTheyStartedListening() {
        String n = name();
        long[] s = new long[4];
        for (int i = 0; i < 4; i++) {
            s[i] = server(n, 0, 0, 4, 1024);
        }
        long c = client(n);
        assertEquals(WinError.ERROR_IO_PENDING, connect(s[2], ov()));
        assertEquals(WinError.ERROR_PIPE_CONNECTED, connect(s[0], ov()));
        k.closeHandle(cap, c);
        c = client(n);
        assertEquals(WinError.ERROR_PIPE_CONNECTED, connect(s[1], ov()));
        k.closeHandle(cap, c);
        c = client(n); // completes s[2]'s pending listen
        k.closeHandle(cap, c);
        assertEquals(1, k.disconnectNamedPipe(cap, s[0]));
        assertEquals(1, k.disconnectNamedPipe(cap, s[2]));
        assertEquals(WinError.ERROR_IO_PENDING, connect(s[2], ov()));
        assertEquals(WinError.ERROR_IO_PENDING, connect(s[0], ov()));
        c = client(n);
        assertEquals(WinError.ERROR_PIPE_CONNECTED, connect(s[3], ov()), "never connected: listening since creation");
        k.closeHandle(cap, c);
        c = client(n);
        k.closeHandle(cap, c);
        assertEquals(1, k.disconnectNamedPipe(cap, s[2]));
        c = client(n); // s[0] last
        assertEquals(1, k.disconnectNamedPipe(cap, s[1]));
        assertEquals(1, k.disconnectNamedPipe(cap, s[3]));
        assertEquals(WinError.ERROR_PIPE_BUSY, createFileError(n), "no instance listening");
        k.closeHandle(cap, c);
    }

    /** doc ConnectNamedPipe: a client that opened and closed before the call leaves ERROR_NO_DATA; DisconnectNamedPipe then lets it listen. */
    @Test
    void aClientThatCameAndWentLeavesNoData() {
        String n = name();
        long s = server(n, 0, 0, 1, 1024);
        k.closeHandle(cap, client(n));
        assertEquals(WinError.ERROR_NO_DATA, connect(s, ov()));
        assertEquals(1, k.disconnectNamedPipe(cap, s));
        assertEquals(WinError.ERROR_IO_PENDING, connect(s, ov()));
    }

    /** doc CreateNamedPipe: FILE_FLAG_FIRST_PIPE_INSTANCE on a name that exists fails with ERROR_ACCESS_DENIED; nMaxInstances caps instances (ERROR_PIPE_BUSY). */
    @Test
    void firstInstanceFlagAndMaxInstances() {
        String n = name();
        long first = server(n, FIRST_INSTANCE, 0, 2, 1024);
        assertEquals(INVALID, k.createNamedPipeW(cap, wide(n), DUPLEX | OVERLAPPED | FIRST_INSTANCE, 0, 2, 0, 0, 0, 0L));
        assertEquals(WinError.ERROR_ACCESS_DENIED, k.lastError(cap));
        server(n, 0, 0, 2, 1024);
        assertEquals(INVALID, k.createNamedPipeW(cap, wide(n), DUPLEX | OVERLAPPED, 0, 2, 0, 0, 0, 0L));
        assertEquals(WinError.ERROR_PIPE_BUSY, k.lastError(cap));
        k.closeHandle(cap, first);
        assertNotEquals(INVALID, k.createNamedPipeW(cap, wide(n), DUPLEX | OVERLAPPED, 0, 2, 0, 0, 0, 0L));
    }

    /** doc CreateFile for pipes: no pipe of that name, ERROR_FILE_NOT_FOUND; the name goes with its last instance. */
    @Test
    void aNameExistsWhileAnInstanceDoes() {
        String n = name();
        assertEquals(WinError.ERROR_FILE_NOT_FOUND, createFileError(n));
        long s = server(n, FIRST_INSTANCE, 0, 1, 1024);
        k.closeHandle(cap, s);
        assertEquals(WinError.ERROR_FILE_NOT_FOUND, createFileError(n));
        server(n, FIRST_INSTANCE, 0, 1, 1024); // the flag succeeds again: the name had lapsed
    }

    /** doc CreateNamedPipe, PIPE_REJECT_REMOTE_CLIENTS: a client through the network redirector is refused. */
    @Test
    void remoteClientsAreRejectedWhenAskedTo() {
        String n = name();
        server(n, 0, REJECT_REMOTE, 2, 1024);
        String remote = n.replace("\\\\.\\", "\\\\localhost\\");
        assertEquals(WinError.ERROR_ACCESS_DENIED, createFileError(remote));
        String open = name();
        server(open, 0, 0, 1, 1024);
        client(open.replace("\\\\.\\", "\\\\localhost\\"));
    }

    // ---- CancelIoEx and cancelled writes ------------------------------------------------------

    /** doc CancelIoEx: the request completes with ERROR_OPERATION_ABORTED and still queues its packet; nothing left to cancel is ERROR_NOT_FOUND. */
    @Test
    void cancelIoExCancelsOneRequestAndItsPacketStillComes() {
        long[] p = bytePair(1024);
        long port = port();
        associate(p[1], port, 3, true);
        MemorySegment ov = ov();
        assertEquals(WinError.ERROR_IO_PENDING, read(p[1], ov, arena.allocate(8)));
        assertEquals(1, k.cancelIoEx(cap, p[1], ov.address()));
        long[] packet = dequeue(port, 0);
        assertEquals(ov.address(), packet[1]);
        assertEquals(0, packet[2]);
        MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
        assertEquals(0, k.getOverlappedResult(cap, p[1], ov.address(), out.address(), 0));
        assertEquals(WinError.ERROR_OPERATION_ABORTED, k.lastError(cap));
        assertEquals(0, k.cancelIoEx(cap, p[1], ov.address()));
        assertEquals(WinError.ERROR_NOT_FOUND, k.lastError(cap));
    }

    /**
     * k32 test_blocking_rw: a pending write larger than the pipe's quota, of which the reader has
     * already taken a prefix, completes with ERROR_OPERATION_ABORTED and 0 bytes when cancelled;
     * the prefix stays read, the rest is dropped.
     */
    @Test
    void aCancelledPartlyReadWriteReportsNothing() {
        long[] p = bytePair(100);
        long port = port();
        associate(p[1], port, 5, true);
        MemorySegment data = arena.allocate(300);
        data.fill((byte) 'w');
        MemorySegment wov = ov();
        assertEquals(WinError.ERROR_IO_PENDING, write(p[1], wov, data));
        MemorySegment prefix = arena.allocate(50);
        assertEquals(0, read(p[0], ov(), prefix), "the reader takes a prefix of the pending write");
        assertEquals(1, k.cancelIoEx(cap, p[1], wov.address()));
        long[] packet = dequeue(port, 0);
        assertEquals(wov.address(), packet[1]);
        assertEquals(0, packet[2], "no count for the bytes the reader took");
        assertEquals(WinError.ERROR_IO_PENDING, read(p[0], ov(), arena.allocate(400)), "the rest is gone");
    }

    /**
     * k32 test_blocking_rw: pending writes complete in order as the reader makes room (each once the
     * unread bytes up to its own fit the quota); an empty write never blocks; cancelling the first of
     * two pending writes drops its data and the reader gets the second's.
     */
    @Test
    void pendingWritesCompleteInOrderAndAnEmptyWriteNeverBlocks() {
        long[] p = messagePair(100);
        long port = port();
        associate(p[1], port, 5, true);
        assertEquals(0, write(p[1], ov(), arena.allocate(60)));
        MemorySegment w100 = ov();
        assertEquals(WinError.ERROR_IO_PENDING, write(p[1], w100, arena.allocate(100)));
        MemorySegment w1 = ov();
        assertEquals(WinError.ERROR_IO_PENDING, write(p[1], w1, arena.allocate(1)));
        assertEquals(0, write(p[1], ov(), arena.allocate(0)), "an empty write does not block");
        assertEquals(0, read(p[0], ov(), arena.allocate(60)));
        long[] packet = dequeue(port, 0);
        assertEquals(w100.address(), packet[1], "the first pending write fits now");
        assertEquals(100, packet[2]);
        assertEquals(null, dequeue(port, 10), "the second does not (101 > 100)");
        assertEquals(0, read(p[0], ov(), arena.allocate(100)));
        packet = dequeue(port, 0);
        assertEquals(w1.address(), packet[1]);
        MemorySegment rov = ov();
        assertEquals(0, read(p[0], rov, arena.allocate(100)));
        assertEquals(1, internalHigh(rov));
        assertEquals(0, read(p[0], rov, arena.allocate(100)));
        assertEquals(0, internalHigh(rov), "the empty message");

        MemorySegment first = ov();
        MemorySegment second = ov();
        assertEquals(WinError.ERROR_IO_PENDING, write(p[1], first, arena.allocate(150)));
        assertEquals(WinError.ERROR_IO_PENDING, write(p[1], second, arena.allocate(1)));
        assertEquals(1, k.cancelIoEx(cap, p[1], first.address()));
        packet = dequeue(port, 0);
        assertEquals(first.address(), packet[1]);
        assertEquals(0, packet[2]);
        packet = dequeue(port, 0);
        assertEquals(second.address(), packet[1], "the second write now fits the quota");
        assertEquals(0, read(p[0], rov, arena.allocate(1000)));
        assertEquals(1, internalHigh(rov), "the reader gets the second write's byte, none of the first's");
    }

    /** k32 (writes beyond the quota): a write pends until the reader makes room, then its packet comes with all its bytes. */
    @Test
    void aWriteBeyondTheQuotaPendsUntilRead() {
        long[] p = bytePair(100);
        long port = port();
        associate(p[1], port, 5, true);
        MemorySegment data = arena.allocate(300);
        MemorySegment wov = ov();
        assertEquals(WinError.ERROR_IO_PENDING, write(p[1], wov, data));
        assertEquals(null, dequeue(port, 10));
        assertEquals(0, read(p[0], ov(), arena.allocate(250)));
        long[] packet = dequeue(port, 0);
        assertEquals(wov.address(), packet[1]);
        assertEquals(300, packet[2]);
    }

    // ---- peer gone ----------------------------------------------------------------------------

    /**
     * k32 (reading and writing after the other end closed): what was written before the close is
     * still read, then ERROR_BROKEN_PIPE; writing to a pipe whose client closed is ERROR_NO_DATA.
     * After DisconnectNamedPipe the client sees ERROR_PIPE_NOT_CONNECTED both ways.
     */
    @Test
    void peerGoneCodes() {
        long[] p = bytePair(1024);
        assertEquals(0, write(p[1], ov(), "bye"));
        k.closeHandle(cap, p[1]);
        MemorySegment buf = arena.allocate(16);
        assertEquals(0, read(p[0], ov(), buf));
        assertEquals(WinError.ERROR_BROKEN_PIPE, read(p[0], ov(), buf));
        assertEquals(WinError.ERROR_NO_DATA, write(p[0], ov(), "x"));

        long[] q = bytePair(1024);
        assertEquals(1, k.disconnectNamedPipe(cap, q[0]));
        assertEquals(WinError.ERROR_PIPE_NOT_CONNECTED, read(q[1], ov(), buf));
        assertEquals(WinError.ERROR_PIPE_NOT_CONNECTED, write(q[1], ov(), "x"));

        long[] r = bytePair(1024);
        k.closeHandle(cap, r[0]);
        assertEquals(WinError.ERROR_BROKEN_PIPE, read(r[1], ov(), buf));
        assertEquals(WinError.ERROR_NO_DATA, write(r[1], ov(), "x"));
    }

    /** A read pending when the other end closes completes with ERROR_BROKEN_PIPE through the port. */
    @Test
    void aPendingReadEndsWithBrokenPipeWhenThePeerCloses() {
        long[] p = bytePair(1024);
        long port = port();
        associate(p[0], port, 9, true);
        MemorySegment ov = ov();
        assertEquals(WinError.ERROR_IO_PENDING, read(p[0], ov, arena.allocate(8)));
        k.closeHandle(cap, p[1]);
        long[] packet = dequeue(port, 0);
        assertEquals(ov.address(), packet[1]);
        MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
        assertEquals(0, k.getOverlappedResult(cap, p[0], ov.address(), out.address(), 0));
        assertEquals(WinError.ERROR_BROKEN_PIPE, k.lastError(cap));
    }

    // ---- read modes ---------------------------------------------------------------------------

    /**
     * doc CreateNamedPipe: "The client side of a named pipe starts out in byte mode, even if the
     * server side is in message mode": it reads across message boundaries until it sets message
     * read mode, which a byte-type pipe refuses.
     */
    @Test
    void theClientStartsInByteReadMode() {
        String n = name();
        long s = server(n, 0, TYPE_MESSAGE | READMODE_MESSAGE, 1, 1024);
        long c = client(n);
        assertEquals(0, write(s, ov(), "ab"));
        assertEquals(0, write(s, ov(), "cd"));
        MemorySegment ov = ov();
        assertEquals(0, read(c, ov, arena.allocate(16)));
        assertEquals(4, internalHigh(ov));

        long[] bytes = bytePair(1024);
        MemorySegment mode = arena.allocateFrom(ValueLayout.JAVA_INT, READMODE_MESSAGE);
        assertEquals(0, k.setNamedPipeHandleState(cap, bytes[1], mode.address(), 0L, 0L));
        assertEquals(WinError.ERROR_INVALID_PARAMETER, k.lastError(cap));
    }

    // ---- the completion port ------------------------------------------------------------------

    /** doc GetQueuedCompletionStatusEx / PostQueuedCompletionStatus: posted packets come back as posted; an empty wait times out; closing the port ends a wait with ERROR_ABANDONED_WAIT_0. */
    @Test
    void completionPortBasics() throws Exception {
        long port = port();
        assertEquals(1, k.postQueuedCompletionStatus(cap, port, 42, 77, 0L));
        long[] packet = dequeue(port, 0);
        assertEquals(77, packet[0]);
        assertEquals(0, packet[1]);
        assertEquals(42, packet[2]);
        assertEquals(null, dequeue(port, 20));

        int[] error = new int[1];
        Thread waiter = Thread.ofPlatform().start(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment c = k.newCapture(a);
                MemorySegment entries = a.allocate(32, 8);
                MemorySegment removed = a.allocate(ValueLayout.JAVA_INT);
                k.getQueuedCompletionStatusEx(c, port, entries.address(), 1, removed.address(), -1, 0);
                error[0] = k.lastError(c);
            }
        });
        Thread.sleep(100);
        k.closeHandle(cap, port);
        waiter.join(5000);
        assertEquals(WinError.ERROR_ABANDONED_WAIT_0, error[0]);
    }

    /** k32 test_namedpipe_process_id (same process): both ends report this process's id. */
    @Test
    void processIdsOfBothEnds() {
        long[] p = bytePair(1024);
        MemorySegment pid = arena.allocate(ValueLayout.JAVA_INT);
        assertEquals(1, k.getNamedPipeClientProcessId(cap, p[0], pid.address()));
        assertEquals(ProcessHandle.current().pid(), pid.get(ValueLayout.JAVA_INT, 0));
        assertEquals(1, k.getNamedPipeServerProcessId(cap, p[1], pid.address()));
        assertEquals(ProcessHandle.current().pid(), pid.get(ValueLayout.JAVA_INT, 0));
    }
}

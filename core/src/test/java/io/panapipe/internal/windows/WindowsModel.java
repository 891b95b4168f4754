package io.panapipe.internal.windows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The <b>Windows model</b>: a model of the named-pipe file system and of the I/O completion port,
 * implementing {@link Win32Api} so that the IOCP engine's Java logic runs on Linux, in
 * {@code ./test}. TEST CODE ONLY: it is not in the library, nothing in production can select it,
 * and a run on it is a run on this model, not on Windows.
 *
 * <p>Where the behaviour comes from. Every modelled behaviour cites what it reproduces: Wine's
 * conformance tests ({@code wine-mirror/wine}: {@code dlls/kernel32/tests/pipe.c} "k32",
 * {@code dlls/ntdll/tests/pipe.c} "ntdll"; these tests run on real Windows and assert what it does)
 * or the Win32 documentation ("doc"). Where the evidence is ambiguous the model picks the harsher
 * behaviour and says so ("HARSH"). {@link WindowsModelConformanceTest} re-expresses the Wine
 * assertions the engine relies on against this model, so the model cannot drift into agreeing
 * with the engine.
 *
 * <p>Like the kernel, the model reads and writes the caller's native memory at the addresses it is
 * given: {@code OVERLAPPED.Internal}/{@code InternalHigh}, {@code OVERLAPPED_ENTRY} arrays, data
 * buffers. A pending write's data is <em>borrowed</em> from the writer's buffer until the write
 * completes (it is copied into the pipe's quota only then), so an engine that frees or reuses a
 * buffer the kernel still holds corrupts data here too.
 *
 * <p>Not modelled: events in {@code hEvent}, APCs and alertable waits, security descriptors
 * (everything runs as one user; the SDDL is only parsed for its shape), impersonation, more than one
 * process (every pid is this JVM's), {@code PIPE_NOWAIT}, Winsock.
 */
class WindowsModel implements Win32Api {
    // ---- NTSTATUS values (ntstatus.h) and their Win32 codes (RtlNtStatusToDosError) ----
    static final int STATUS_SUCCESS = 0;
    static final int STATUS_PENDING = 0x103;
    static final int STATUS_BUFFER_OVERFLOW = 0x80000005;
    static final int STATUS_CANCELLED = 0xC0000120;
    static final int STATUS_PIPE_BROKEN = 0xC000014B;
    static final int STATUS_PIPE_DISCONNECTED = 0xC00000B0;
    static final int STATUS_PIPE_CLOSING = 0xC00000B1;

    static final int ERROR_INVALID_FUNCTION = 1;
    static final int ERROR_BAD_NETPATH = 53;
    static final int ERROR_NOT_SUPPORTED = 50;
    static final int WSAENOTSOCK = 10038;

    private static final int FILE_FLAG_OVERLAPPED = 0x40000000;
    private static final int FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000;
    private static final int PIPE_TYPE_MESSAGE = 4;
    private static final int PIPE_READMODE_MESSAGE = 2;
    private static final int PIPE_REJECT_REMOTE_CLIENTS = 8;
    private static final int PIPE_UNLIMITED_INSTANCES = 255;
    private static final int PIPE_SERVER_END = 1;
    private static final int SKIP_PORT_ON_SUCCESS = 1;
    private static final long INVALID_HANDLE = -1L;
    /**
     * The quota of a pipe end created with buffer size 0. The documentation calls the sizes
     * advisory ("the system default, the system minimum or maximum"), without numbers: HARSH, a
     * small quota, so that writes pend early and the engine's pending-write paths run.
     */
    static final int DEFAULT_QUOTA = 4096;

    private static final MemorySegment MEM = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final long PID = ProcessHandle.current().pid();

    private final ReentrantLock lock = new ReentrantLock();
    private final List<Object> handles = new ArrayList<>();
    private final ArrayDeque<Integer> freeHandles = new ArrayDeque<>();
    private final Map<String, NamedPipe> pipes = new HashMap<>();
    private final Map<Long, Arena> localAllocations = new HashMap<>();
    private long listenSequence;
    /**
     * The pre-Windows-8 overflow, ntdll test_completion's other branch: a message read into a short
     * buffer returns {@code STATUS_BUFFER_OVERFLOW} synchronously ({@code ERROR_MORE_DATA}) and, on a
     * skip-on-success handle, queues no packet. Off by default (every Windows a supported JDK runs on
     * pends instead); tests turn it on to run the engine's synchronous fallback.
     */
    volatile boolean legacySynchronousOverflow;
    /** Counts calls, for tests that check what the engine did. */
    volatile int readFileCalls;
    volatile int writeFileCalls;

    // ---- the objects behind handles ----------------------------------------------------------

    /** One named pipe: a name and its instances. */
    private static final class NamedPipe {
        final String name;
        final boolean messageType;
        final int maxInstances;
        final List<ServerEnd> instances = new ArrayList<>();

        NamedPipe(String name, boolean messageType, int maxInstances) {
            this.name = name;
            this.messageType = messageType;
            this.maxInstances = maxInstances;
        }
    }

    private enum State { LISTENING, CONNECTED, CLOSING, DISCONNECTED }

    /** A pending request: read, write or connect. */
    private static final class Request {
        final PipeEnd owner;
        final int kind; // OverlappedIo.READ / WRITE / CONNECT
        final long overlapped;
        final long buffer;
        final int length;
        /** The call that issued it is still returning: a completion now is a synchronous one. */
        boolean inline;

        Request(PipeEnd owner, int kind, long overlapped, long buffer, int length) {
            this.owner = owner;
            this.kind = kind;
            this.overlapped = overlapped;
            this.buffer = buffer;
            this.length = length;
        }
    }

    /** Bytes on their way in one direction: one entry per write (a message in message-type pipes). */
    private static final class Entry {
        long address;            // borrowed from the writer while `writer` pends, else model memory
        final int length;
        int read;                // bytes already taken by the reader
        Request writer;          // the pending WriteFile that owns `address`, or null once copied
        Arena copy;              // model memory holding the data once the write completed

        Entry(long address, int length, Request writer) {
            this.address = address;
            this.length = length;
            this.writer = writer;
        }

        int unread() {
            return length - read;
        }

        void rebase(long copied) {
            address = copied;
        }
    }

    /** What one end receives: its inbound queue and its pending reads. */
    private static final class Inbound {
        final int quota;
        final ArrayDeque<Entry> entries = new ArrayDeque<>();
        final ArrayDeque<Request> readers = new ArrayDeque<>();

        Inbound(int quota) {
            this.quota = quota;
        }

        long unread() {
            long n = 0;
            for (Entry e : entries) {
                n += e.unread();
            }
            return n;
        }
    }

    private abstract static class PipeEnd {
        final NamedPipe pipe;
        final boolean overlapped;
        Port port;
        long key;
        int notificationModes;
        boolean messageRead;
        boolean closed;
        Inbound inbound;

        PipeEnd(NamedPipe pipe, boolean overlapped) {
            this.pipe = pipe;
            this.overlapped = overlapped;
        }

        abstract PipeEnd peer();
    }

    private static final class ServerEnd extends PipeEnd {
        final int openMode;
        final int pipeMode;
        final int outQuota;
        final int inQuota;
        State state = State.LISTENING;
        long listenSeq;
        Request connect;
        ClientEnd client;

        ServerEnd(NamedPipe pipe, int openMode, int pipeMode, int outQuota, int inQuota) {
            super(pipe, (openMode & FILE_FLAG_OVERLAPPED) != 0);
            this.openMode = openMode;
            this.pipeMode = pipeMode;
            this.outQuota = outQuota;
            this.inQuota = inQuota;
            this.messageRead = (pipeMode & PIPE_READMODE_MESSAGE) != 0;
        }

        @Override
        PipeEnd peer() {
            return client;
        }
    }

    private static final class ClientEnd extends PipeEnd {
        ServerEnd server; // null once the server disconnected or closed
        boolean serverClosed;
        boolean serverDisconnected;

        ClientEnd(NamedPipe pipe, boolean overlapped) {
            super(pipe, overlapped);
        }

        @Override
        PipeEnd peer() {
            return server;
        }
    }

    private static final class Port {
        final ArrayDeque<long[]> packets = new ArrayDeque<>(); // {key, overlapped, bytes}
        final Condition nonEmpty;
        boolean closed;
        int waiters;

        Port(Condition nonEmpty) {
            this.nonEmpty = nonEmpty;
        }
    }

    private static final class Token {
    }

    private static final class Process {
    }

    // ---- allocation accounting (ZeroAllocationTest measures the engine, not this model) --------

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final ThreadLocal<long[]> MODEL_ALLOCATED = ThreadLocal.withInitial(() -> new long[1]);

    /**
     * Bytes the Windows model itself allocated on the current thread inside the calls the engine's
     * hot path makes (ReadFile, WriteFile, CancelIoEx, GetOverlappedResult). The real kernel
     * allocates no Java objects, so allocation tests subtract this.
     */
    static long allocatedByTheModelOnThisThread() {
        return MODEL_ALLOCATED.get()[0];
    }

    private static long allocationMark() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    private static void accountSince(long mark, long[] counter) {
        counter[0] += THREADS.getCurrentThreadAllocatedBytes() - mark;
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static int fail(MemorySegment capture, int error) {
        capture.set(ValueLayout.JAVA_INT, 0, error);
        capture.set(ValueLayout.JAVA_INT, 4, error); // WSAGetLastError: the same thread-local value
        return 0;
    }

    private static long failHandle(MemorySegment capture, int error) {
        fail(capture, error);
        return INVALID_HANDLE;
    }

    /** RtlNtStatusToDosError for the statuses the model produces. */
    static int win32Error(int status) {
        return switch (status) {
            case STATUS_SUCCESS -> WinError.ERROR_SUCCESS;
            case STATUS_PENDING -> WinError.ERROR_IO_PENDING;
            case STATUS_BUFFER_OVERFLOW -> WinError.ERROR_MORE_DATA;
            case STATUS_CANCELLED -> WinError.ERROR_OPERATION_ABORTED;
            case STATUS_PIPE_BROKEN -> WinError.ERROR_BROKEN_PIPE;
            case STATUS_PIPE_DISCONNECTED -> WinError.ERROR_PIPE_NOT_CONNECTED;
            case STATUS_PIPE_CLOSING -> WinError.ERROR_NO_DATA;
            default -> throw new IllegalArgumentException("status " + Integer.toHexString(status));
        };
    }

    private long newHandle(Object o) {
        Integer free = freeHandles.poll();
        int index;
        if (free != null) {
            index = free;
            handles.set(index, o);
        } else {
            index = handles.size();
            handles.add(o);
        }
        return (index + 1) * 4L; // handle values are multiples of 4, never 0 or -1
    }

    private Object object(long handle) {
        if (handle <= 0 || (handle & 3) != 0) {
            return null;
        }
        long index = handle / 4 - 1;
        return index < handles.size() ? handles.get((int) index) : null;
    }

    private static String wide(long address) {
        int n = 0;
        while (MEM.get(ValueLayout.JAVA_CHAR_UNALIGNED, address + 2L * n) != 0) {
            n++;
        }
        byte[] b = new byte[2 * n];
        MemorySegment.copy(MEM, ValueLayout.JAVA_BYTE, address, b, 0, b.length);
        return new String(b, StandardCharsets.UTF_16LE);
    }

    /**
     * Records a request's final status in its OVERLAPPED, as the kernel does ({@code Internal} =
     * NTSTATUS, {@code InternalHigh} = bytes; doc: OVERLAPPED), and queues a packet to the handle's
     * port unless the request finished inline on a skip-on-success handle.
     *
     * @param inline the request's call is still returning (synchronous outcome)
     */
    private static void finish(PipeEnd end, long overlapped, int status, int bytes, boolean inline) {
        MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, overlapped + 8, Integer.toUnsignedLong(bytes));
        MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, overlapped, Integer.toUnsignedLong(status));
        if (end.port == null) {
            return;
        }
        // doc SetFileCompletionNotificationModes: with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS no
        // packet is queued when "a request returns success immediately without returning
        // ERROR_PENDING"; ntdll test_completion: a synchronous success queues one without the mode.
        // Synchronous failures (NT_ERROR) queue nothing (doc: only requests that return success or
        // pending produce completion packets).
        if (inline && ((end.notificationModes & SKIP_PORT_ON_SUCCESS) != 0 || status != STATUS_SUCCESS)) {
            return;
        }
        end.port.packets.add(new long[] {end.key, overlapped, Integer.toUnsignedLong(bytes)});
        end.port.nonEmpty.signal();
    }

    private static void pend(long overlapped) {
        // doc OVERLAPPED.Internal: "When the request is issued, the system sets this member to
        // STATUS_PENDING"; kernel32 does it before the call.
        MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, overlapped, STATUS_PENDING);
    }

    @Override
    public long captureSize() {
        return 12; // GetLastError, WSAGetLastError, errno: the Windows capture-state layout
    }

    @Override
    public int lastError(MemorySegment capture) {
        return capture.get(ValueLayout.JAVA_INT, 0);
    }

    @Override
    public int wsaLastError(MemorySegment capture) {
        return capture.get(ValueLayout.JAVA_INT, 4);
    }

    @Override
    public MemorySegment newCapture(Arena arena) {
        return arena.allocate(16, 8);
    }

    // ---- the completion port ------------------------------------------------------------------

    @Override
    public long createIoCompletionPort(MemorySegment capture, long handle, long existingPort, long key, int threads) {
        lock.lock();
        try {
            if (handle == INVALID_HANDLE) {
                if (existingPort != 0) {
                    return fail(capture, WinError.ERROR_INVALID_PARAMETER);
                }
                return newHandle(new Port(lock.newCondition()));
            }
            if (!(object(handle) instanceof PipeEnd end) || !(object(existingPort) instanceof Port port)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            if (!end.overlapped) {
                return fail(capture, WinError.ERROR_INVALID_PARAMETER); // doc: opened for overlapped I/O
            }
            if (end.port != null) {
                return fail(capture, WinError.ERROR_INVALID_PARAMETER); // doc: one port per handle
            }
            end.port = port;
            end.key = key;
            return existingPort;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int setFileCompletionNotificationModes(MemorySegment capture, long handle, byte flags) {
        lock.lock();
        try {
            if (!(object(handle) instanceof PipeEnd end)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            end.notificationModes = flags;
            return 1;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int postQueuedCompletionStatus(MemorySegment capture, long port, int bytes, long key, long overlapped) {
        lock.lock();
        try {
            if (!(object(port) instanceof Port p)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            p.packets.add(new long[] {key, overlapped, Integer.toUnsignedLong(bytes)});
            p.nonEmpty.signal();
            return 1;
        } finally {
            lock.unlock();
        }
    }

    /**
     * doc GetQueuedCompletionStatusEx: TRUE with up to {@code count} entries removed; FALSE with
     * {@code WAIT_TIMEOUT} when the wait ends first; a port closed while waiting ends the wait with
     * {@code ERROR_ABANDONED_WAIT_0}. Each OVERLAPPED_ENTRY (x64): key @0, lpOverlapped @8,
     * Internal @16 (reserved), bytes @24.
     */
    @Override
    public int getQueuedCompletionStatusEx(MemorySegment capture, long port, long entries, int count, long removedOut,
                                           int millis, int alertable) {
        lock.lock();
        try {
            if (!(object(port) instanceof Port p)) {
                MEM.set(ValueLayout.JAVA_INT_UNALIGNED, removedOut, 0);
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            long deadline = millis < 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            p.waiters++;
            try {
                while (p.packets.isEmpty() && !p.closed) {
                    if (millis < 0) {
                        p.nonEmpty.awaitUninterruptibly();
                    } else {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            MEM.set(ValueLayout.JAVA_INT_UNALIGNED, removedOut, 0);
                            return fail(capture, WinError.WAIT_TIMEOUT);
                        }
                        try {
                            p.nonEmpty.awaitNanos(left);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            } finally {
                p.waiters--;
            }
            if (p.closed) {
                MEM.set(ValueLayout.JAVA_INT_UNALIGNED, removedOut, 0);
                return fail(capture, WinError.ERROR_ABANDONED_WAIT_0);
            }
            int n = 0;
            while (n < count && !p.packets.isEmpty()) {
                long[] packet = p.packets.poll();
                long e = entries + 32L * n;
                MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, e, packet[0]);
                MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, e + 8, packet[1]);
                MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, e + 16, 0L);
                MEM.set(ValueLayout.JAVA_INT_UNALIGNED, e + 24, (int) packet[2]);
                n++;
            }
            MEM.set(ValueLayout.JAVA_INT_UNALIGNED, removedOut, n);
            return 1;
        } finally {
            lock.unlock();
        }
    }

    // ---- named pipes: creating and opening ----------------------------------------------------

    @Override
    public long createNamedPipeW(MemorySegment capture, long name, int openMode, int pipeMode, int maxInstances,
                                 int outBuffer, int inBuffer, int defaultTimeout, long securityAttributes) {
        String path = wide(name);
        lock.lock();
        try {
            if (!path.regionMatches(true, 0, "\\\\.\\pipe\\", 0, 9) || path.length() == 9) {
                return failHandle(capture, WinError.ERROR_INVALID_NAME); // doc: \\.\pipe\pipename
            }
            if (maxInstances < 1 || maxInstances > PIPE_UNLIMITED_INSTANCES) {
                return failHandle(capture, WinError.ERROR_INVALID_PARAMETER);
            }
            String key = path.toLowerCase(Locale.ROOT); // ntdll create_pipe: OBJ_CASE_INSENSITIVE
            NamedPipe pipe = pipes.get(key);
            if (pipe != null && !pipe.instances.isEmpty()) {
                if ((openMode & FILE_FLAG_FIRST_PIPE_INSTANCE) != 0) {
                    // doc CreateNamedPipe, FILE_FLAG_FIRST_PIPE_INSTANCE: creating a further instance
                    // with the flag "fails with ERROR_ACCESS_DENIED"
                    return failHandle(capture, WinError.ERROR_ACCESS_DENIED);
                }
                if (pipe.instances.size() >= pipe.maxInstances) {
                    return failHandle(capture, WinError.ERROR_PIPE_BUSY); // doc CreateNamedPipe, nMaxInstances
                }
                if (pipe.messageType != ((pipeMode & PIPE_TYPE_MESSAGE) != 0)) {
                    return failHandle(capture, WinError.ERROR_ACCESS_DENIED); // HARSH: instances share one type
                }
            } else {
                pipe = new NamedPipe(key, (pipeMode & PIPE_TYPE_MESSAGE) != 0,
                        maxInstances == PIPE_UNLIMITED_INSTANCES ? Integer.MAX_VALUE : maxInstances);
                pipes.put(key, pipe);
            }
            if ((pipeMode & PIPE_READMODE_MESSAGE) != 0 && !pipe.messageType) {
                return failHandle(capture, WinError.ERROR_INVALID_PARAMETER); // doc: message read mode needs message type
            }
            ServerEnd server = new ServerEnd(pipe, openMode, pipeMode, outBuffer == 0 ? DEFAULT_QUOTA : outBuffer,
                    inBuffer == 0 ? DEFAULT_QUOTA : inBuffer);
            // A new instance accepts clients at once, before ConnectNamedPipe (doc ConnectNamedPipe:
            // a client can connect "in the interval between the call to CreateNamedPipe and the call
            // to ConnectNamedPipe"); clients take listening instances in the order they started
            // listening (k32 test_multiple_instances).
            server.listenSeq = ++listenSequence;
            pipe.instances.add(server);
            return newHandle(server);
        } finally {
            lock.unlock();
        }
    }

    /** The hosts the model treats as this machine when reached over the network redirector. */
    private static boolean isLoopbackHost(String host) {
        return host.equalsIgnoreCase("localhost") || host.equals("127.0.0.1");
    }

    @Override
    public long createFileW(MemorySegment capture, long name, int access, int share, long securityAttributes,
                            int disposition, int flags, long template) {
        String path = wide(name);
        lock.lock();
        try {
            if (!path.startsWith("\\\\")) {
                return failHandle(capture, WinError.ERROR_FILE_NOT_FOUND);
            }
            int slash = path.indexOf('\\', 2);
            if (slash < 0 || !path.regionMatches(true, slash, "\\pipe\\", 0, 6)) {
                return failHandle(capture, WinError.ERROR_BAD_PATHNAME);
            }
            String host = path.substring(2, slash);
            boolean remote = !host.equals(".");
            if (remote && !isLoopbackHost(host)) {
                return failHandle(capture, ERROR_BAD_NETPATH); // no network in the model
            }
            String key = ("\\\\.\\pipe\\" + path.substring(slash + 6)).toLowerCase(Locale.ROOT);
            NamedPipe pipe = pipes.get(key);
            if (pipe == null || pipe.instances.isEmpty()) {
                return failHandle(capture, WinError.ERROR_FILE_NOT_FOUND); // k32 test_wait_pipe: no pipe
            }
            ServerEnd chosen = null;
            for (ServerEnd s : pipe.instances) {
                if (s.state == State.LISTENING && (chosen == null || s.listenSeq < chosen.listenSeq)) {
                    chosen = s; // k32 test_multiple_instances: the one listening longest
                }
            }
            if (chosen == null) {
                return failHandle(capture, WinError.ERROR_PIPE_BUSY); // k32 test_multiple_instances, last case
            }
            if (remote && (chosen.pipeMode & PIPE_REJECT_REMOTE_CLIENTS) != 0) {
                // doc CreateNamedPipe, PIPE_REJECT_REMOTE_CLIENTS: remote connections are rejected;
                // the code is not documented: HARSH, access denied (what the engine's tests expect)
                return failHandle(capture, WinError.ERROR_ACCESS_DENIED);
            }
            ClientEnd client = new ClientEnd(pipe, (flags & FILE_FLAG_OVERLAPPED) != 0);
            // doc CreateNamedPipe / SetNamedPipeHandleState: "The client side of a named pipe starts
            // out in byte mode, even if the server side is in message mode."
            client.messageRead = false;
            client.inbound = new Inbound(chosen.outQuota);
            chosen.inbound = new Inbound(chosen.inQuota);
            client.server = chosen;
            chosen.client = client;
            chosen.state = State.CONNECTED;
            long handle = newHandle(client);
            Request connect = chosen.connect;
            if (connect != null) {
                chosen.connect = null;
                finish(chosen, connect.overlapped, STATUS_SUCCESS, 0, false); // the pending listen completes
            }
            return handle;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int connectNamedPipe(MemorySegment capture, long handle, long overlapped) {
        lock.lock();
        try {
            Object o = object(handle);
            if (o instanceof ClientEnd) {
                return fail(capture, ERROR_INVALID_FUNCTION); // ntdll test_create: STATUS_ILLEGAL_FUNCTION
            }
            if (!(o instanceof ServerEnd s)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            switch (s.state) {
                case CONNECTED -> {
                    // doc ConnectNamedPipe; k32 test_multiple_instances: a client that came first
                    return fail(capture, WinError.ERROR_PIPE_CONNECTED);
                }
                case CLOSING -> {
                    // doc ConnectNamedPipe: the client closed its handle before the call
                    return fail(capture, WinError.ERROR_NO_DATA);
                }
                case DISCONNECTED -> {
                    s.state = State.LISTENING;
                    s.listenSeq = ++listenSequence;
                }
                case LISTENING -> {
                    if (s.connect != null) {
                        return fail(capture, WinError.ERROR_INVALID_PARAMETER); // HARSH: one listen at a time
                    }
                }
            }
            pend(overlapped);
            s.connect = new Request(s, OverlappedIo.CONNECT, overlapped, 0, 0);
            return fail(capture, WinError.ERROR_IO_PENDING);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int disconnectNamedPipe(MemorySegment capture, long handle) {
        lock.lock();
        try {
            if (!(object(handle) instanceof ServerEnd s)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            if (s.connect != null) {
                // HARSH: a pending listen is failed by the disconnect
                Request c = s.connect;
                s.connect = null;
                finish(s, c.overlapped, STATUS_PIPE_DISCONNECTED, 0, false);
            }
            ClientEnd client = s.client;
            if (client != null) {
                client.server = null;
                client.serverDisconnected = true;
                // the client's pending reads fail, and what it had not read is gone
                failAll(client, client.inbound.readers, STATUS_PIPE_DISCONNECTED);
                dropEntries(client.inbound, STATUS_PIPE_DISCONNECTED);
            }
            if (s.inbound != null) {
                failAll(s, s.inbound.readers, STATUS_PIPE_DISCONNECTED);
                dropEntries(s.inbound, STATUS_PIPE_DISCONNECTED);
            }
            s.client = null;
            s.inbound = null;
            s.state = State.DISCONNECTED;
            return 1;
        } finally {
            lock.unlock();
        }
    }

    private static void failAll(PipeEnd end, ArrayDeque<Request> requests, int status) {
        Request r;
        while ((r = requests.poll()) != null) {
            finish(end, r.overlapped, status, 0, false);
        }
    }

    /** Discards queued data; pending writes among it fail with {@code status}. */
    private static void dropEntries(Inbound in, int status) {
        Entry e;
        while ((e = in.entries.poll()) != null) {
            if (e.writer != null) {
                finish(e.writer.owner, e.writer.overlapped, status, 0, false);
            }
            release(e);
        }
    }

    private static void release(Entry e) {
        if (e.copy != null) {
            e.copy.close();
            e.copy = null;
        }
    }

    @Override
    public int closeHandle(MemorySegment capture, long handle) {
        lock.lock();
        try {
            Object o = object(handle);
            if (o == null) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            int index = (int) (handle / 4 - 1);
            handles.set(index, null);
            freeHandles.add(index);
            if (o instanceof Port p) {
                p.closed = true;
                p.nonEmpty.signalAll();
            } else if (o instanceof ServerEnd s) {
                closeServer(s);
            } else if (o instanceof ClientEnd c) {
                closeClient(c);
            }
            return 1;
        } finally {
            lock.unlock();
        }
    }

    private void closeServer(ServerEnd s) {
        s.closed = true;
        if (s.connect != null) {
            Request c = s.connect;
            s.connect = null;
            finish(s, c.overlapped, STATUS_CANCELLED, 0, false); // closing a handle cancels its requests
        }
        if (s.inbound != null) {
            failAll(s, s.inbound.readers, STATUS_CANCELLED);
        }
        ClientEnd client = s.client;
        if (client != null) {
            // The client reads what the server wrote before closing, then ERROR_BROKEN_PIPE; its
            // writes fail with ERROR_NO_DATA (k32: reads and writes after the other end closed).
            client.serverClosed = true;
            client.server = null;
            failAll(client, client.inbound.readers, STATUS_PIPE_BROKEN);
            // the server's own pending writes are cancelled by the close, their unread rest dropped
            cancelWritesOf(s, client.inbound);
        }
        if (s.inbound != null) {
            dropEntries(s.inbound, STATUS_PIPE_BROKEN);
        }
        s.pipe.instances.remove(s);
        if (s.pipe.instances.isEmpty()) {
            pipes.remove(s.pipe.name); // the name exists while an instance does
        }
    }

    private static void cancelWritesOf(PipeEnd writer, Inbound in) {
        for (var it = in.entries.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.writer != null && e.writer.owner == writer) {
                it.remove();
                completeWriter(e, STATUS_CANCELLED, 0);
                release(e);
            }
        }
    }

    private void closeClient(ClientEnd c) {
        c.closed = true;
        failAll(c, c.inbound.readers, STATUS_CANCELLED);
        ServerEnd s = c.server;
        if (s != null) {
            // the server reads what is left, then ERROR_BROKEN_PIPE; ConnectNamedPipe on the
            // instance says ERROR_NO_DATA until it is disconnected (doc ConnectNamedPipe)
            s.state = State.CLOSING;
            failAll(s, s.inbound.readers, STATUS_PIPE_BROKEN);
            cancelWritesOf(c, s.inbound);
            // the client's pending writes are gone with it; the server's to it fail
            dropEntries(c.inbound, STATUS_PIPE_CLOSING);
        }
        c.server = null;
    }

    // ---- reading and writing ------------------------------------------------------------------

    /** The inbound queue of {@code end}, or the code that says why it cannot read. */
    private static int readProblem(PipeEnd end) {
        if (end instanceof ServerEnd s) {
            return switch (s.state) {
                case LISTENING -> WinError.ERROR_PIPE_LISTENING;
                case DISCONNECTED -> WinError.ERROR_PIPE_NOT_CONNECTED;
                case CLOSING, CONNECTED -> 0;
            };
        }
        ClientEnd c = (ClientEnd) end;
        return c.serverDisconnected ? WinError.ERROR_PIPE_NOT_CONNECTED : 0;
    }

    private static boolean peerGone(PipeEnd end) {
        if (end instanceof ServerEnd s) {
            return s.state == State.CLOSING;
        }
        return ((ClientEnd) end).serverClosed;
    }

    @Override
    public int readFile(MemorySegment capture, long handle, long buffer, int length, long overlapped) {
        long[] counter = MODEL_ALLOCATED.get();
        long mark = allocationMark();
        lock.lock();
        try {
            readFileCalls++;
            if (!(object(handle) instanceof PipeEnd end)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            int problem = readProblem(end);
            if (problem != 0) {
                return fail(capture, problem);
            }
            Inbound in = end.inbound;
            if (in.readers.isEmpty() && !in.entries.isEmpty()) {
                boolean legacy = legacySynchronousOverflow;
                int status = take(end, in, buffer, length, overlapped, true, legacy);
                if (status == STATUS_BUFFER_OVERFLOW && legacy) {
                    return fail(capture, WinError.ERROR_MORE_DATA); // Internal/InternalHigh set, no packet
                }
                if (status == STATUS_BUFFER_OVERFLOW) {
                    // ntdll test_completion, "win8+": an overflowing message read goes pending and
                    // queues one packet with STATUS_BUFFER_OVERFLOW and the bytes (the model is the
                    // Windows 8+ system every supported JDK runs on)
                    return fail(capture, WinError.ERROR_IO_PENDING);
                }
                return 1;
            }
            if (peerGone(end)) {
                return fail(capture, WinError.ERROR_BROKEN_PIPE); // data first, then broken pipe
            }
            pend(overlapped);
            in.readers.add(new Request(end, OverlappedIo.READ, overlapped, buffer, length));
            return fail(capture, WinError.ERROR_IO_PENDING);
        } finally {
            lock.unlock();
            accountSince(mark, counter);
        }
    }

    /**
     * Moves queued bytes into a read's buffer and finishes the read (inline when called from
     * ReadFile itself, else as a completion). Returns the status.
     */
    private static int take(PipeEnd reader, Inbound in, long buffer, int length, long overlapped, boolean inline) {
        return take(reader, in, buffer, length, overlapped, inline, false);
    }

    /** @param inlineOverflow an overflow is returned synchronously (legacy), not pended */
    private static int take(PipeEnd reader, Inbound in, long buffer, int length, long overlapped, boolean inline,
                            boolean inlineOverflow) {
        int status = STATUS_SUCCESS;
        int done = 0;
        if (reader.pipe.messageType && reader.messageRead) {
            // message read mode: one message; what does not fit stays for the next read
            Entry e = in.entries.peek();
            int n = Math.min(length, e.unread());
            copyOut(e, n, buffer);
            done = n;
            if (e.unread() > 0) {
                status = STATUS_BUFFER_OVERFLOW;
            } else {
                in.entries.poll();
                entryConsumed(e);
            }
        } else {
            // byte read mode: as much as there is, across message boundaries
            while (done < length && !in.entries.isEmpty()) {
                Entry e = in.entries.peek();
                int n = Math.min(length - done, e.unread());
                copyOut(e, n, buffer + done);
                done += n;
                if (e.unread() == 0) {
                    in.entries.poll();
                    entryConsumed(e);
                    if (reader.pipe.messageType && e.length == 0 && done == 0) {
                        break;
                    }
                }
            }
        }
        completeFittingWriters(in);
        // an overflow is never inline: ntdll test_completion "win8+" (pending + one packet)
        finish(reader, overlapped, status, done, inline && (status == STATUS_SUCCESS || inlineOverflow));
        return status;
    }

    private static void copyOut(Entry e, int n, long to) {
        if (n > 0) {
            MemorySegment.copy(MEM, e.address + e.read, MEM, to, n);
            e.read += n;
        }
    }

    private static void entryConsumed(Entry e) {
        if (e.writer != null) {
            completeWriter(e, STATUS_SUCCESS, e.length);
        }
        release(e);
    }

    /**
     * A pending write completes once the unread bytes up to and including its own fit in the
     * reader's quota (its data is copied into the pipe then, and the writer's buffer is free): k32
     * test_blocking_rw, "read remaining data from the first write" completes the first pending
     * write while a second one, one byte further, stays pending until one more byte is read.
     */
    private static void completeFittingWriters(Inbound in) {
        long ahead = 0;
        for (Entry e : in.entries) {
            ahead += e.unread();
            if (e.writer != null && ahead <= in.quota) {
                completeWriter(e, STATUS_SUCCESS, e.length);
            }
        }
    }

    private static void copyIn(Entry e) {
        // the data moves from the writer's (borrowed) buffer into model memory
        Arena a = Arena.ofShared();
        MemorySegment m = a.allocate(Math.max(1, e.length));
        MemorySegment.copy(MEM, e.address, m, 0, e.length);
        e.copy = a;
        e.rebase(m.address());
    }

    private static void completeWriter(Entry e, int status, int bytes) {
        Request w = e.writer;
        e.writer = null;
        if (status == STATUS_SUCCESS && e.copy == null && e.unread() > 0) {
            copyIn(e); // the writer's buffer is its own again: keep what is still unread
        }
        finish(w.owner, w.overlapped, status, bytes, w.inline);
    }

    @Override
    public int writeFile(MemorySegment capture, long handle, long buffer, int length, long overlapped) {
        long[] counter = MODEL_ALLOCATED.get();
        long mark = allocationMark();
        lock.lock();
        try {
            writeFileCalls++;
            if (!(object(handle) instanceof PipeEnd end)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            if (end instanceof ServerEnd s && s.state == State.LISTENING) {
                return fail(capture, WinError.ERROR_PIPE_LISTENING);
            }
            if (end instanceof ServerEnd s && s.state == State.DISCONNECTED
                    || end instanceof ClientEnd c && c.serverDisconnected) {
                return fail(capture, WinError.ERROR_PIPE_NOT_CONNECTED);
            }
            if (peerGone(end)) {
                return fail(capture, WinError.ERROR_NO_DATA); // k32: writing to a closed pipe, "pipe is being closed"
            }
            PipeEnd peer = end.peer();
            Inbound in = peer.inbound;
            if (length == 0) {
                // k32 test_blocking_rw: "empty write will not block", even behind pending writes; in a
                // message pipe it queues an empty message ("0 length write wakes one read in msg mode")
                if (end.pipe.messageType) {
                    in.entries.add(new Entry(0, 0, null));
                    while (!in.readers.isEmpty() && !in.entries.isEmpty() && in.entries.peek().unread() == 0
                            && in.entries.peek().length == 0) {
                        Request r = in.readers.poll();
                        take(peer, in, r.buffer, r.length, r.overlapped, false);
                    }
                }
                finish(end, overlapped, STATUS_SUCCESS, 0, true);
                return 1;
            }
            Request w = new Request(end, OverlappedIo.WRITE, overlapped, buffer, length);
            w.inline = true;
            Entry e = new Entry(buffer, length, w);
            in.entries.add(e);
            // The data is readable at once: pending reads take it now. The write completes when
            // its bytes are read or fit in the reader's quota (completeFittingWriters), which may
            // happen right here: then it is a synchronous success (no packet in skip mode).
            while (!in.readers.isEmpty() && !in.entries.isEmpty()) {
                Request r = in.readers.poll();
                take(peer, in, r.buffer, r.length, r.overlapped, false);
            }
            completeFittingWriters(in);
            w.inline = false;
            if (e.writer == null) {
                return 1;
            }
            pend(overlapped);
            return fail(capture, WinError.ERROR_IO_PENDING);
        } finally {
            lock.unlock();
            accountSince(mark, counter);
        }
    }

    // ---- cancelling and results ---------------------------------------------------------------

    /**
     * doc CancelIoEx: cancels the request of {@code handle} whose OVERLAPPED is {@code overlapped}
     * (all of the handle's if NULL), whichever thread issued it; FALSE with {@code ERROR_NOT_FOUND}
     * if none is pending. A cancelled request completes with {@code STATUS_CANCELLED} and still
     * queues its packet. A cancelled pending write reports 0 bytes and its unread rest is dropped,
     * even if the reader already took a prefix of it (k32 test_blocking_rw: "make two async writes,
     * cancel the first one and make sure that we read from the second one", then "same as above,
     * but partially read written data before canceling"; its cancel_overlapped helper asserts
     * ERROR_OPERATION_ABORTED with a result of 0).
     */
    @Override
    public int cancelIoEx(MemorySegment capture, long handle, long overlapped) {
        long[] counter = MODEL_ALLOCATED.get();
        long mark = allocationMark();
        lock.lock();
        try {
            if (!(object(handle) instanceof PipeEnd end)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            boolean found = false;
            if (end instanceof ServerEnd s && s.connect != null && (overlapped == 0 || s.connect.overlapped == overlapped)) {
                Request c = s.connect;
                s.connect = null;
                finish(s, c.overlapped, STATUS_CANCELLED, 0, false);
                found = true;
            }
            if (end.inbound != null) {
                for (var it = end.inbound.readers.iterator(); it.hasNext(); ) {
                    Request r = it.next();
                    if (overlapped == 0 || r.overlapped == overlapped) {
                        it.remove();
                        finish(end, r.overlapped, STATUS_CANCELLED, 0, false);
                        found = true;
                    }
                }
            }
            PipeEnd peer = end.peer();
            if (peer != null && peer.inbound != null) {
                for (var it = peer.inbound.entries.iterator(); it.hasNext(); ) {
                    Entry e = it.next();
                    if (e.writer != null && e.writer.owner == end && (overlapped == 0 || e.writer.overlapped == overlapped)) {
                        it.remove();
                        completeWriter(e, STATUS_CANCELLED, 0);
                        release(e);
                        found = true;
                    }
                }
                completeFittingWriters(peer.inbound);
            }
            return found ? 1 : fail(capture, WinError.ERROR_NOT_FOUND);
        } finally {
            lock.unlock();
            accountSince(mark, counter);
        }
    }

    /**
     * {@code GetOverlappedResult(bWait = FALSE)} as kernel32 implements it: {@code Internal} still
     * {@code STATUS_PENDING} → FALSE, {@code ERROR_IO_INCOMPLETE}; else the byte count from
     * {@code InternalHigh} and TRUE for success, FALSE with the status's Win32 code otherwise
     * ({@code STATUS_BUFFER_OVERFLOW} → {@code ERROR_MORE_DATA}).
     */
    @Override
    public int getOverlappedResult(MemorySegment capture, long handle, long overlapped, long bytesOut, int wait) {
        long[] counter = MODEL_ALLOCATED.get();
        long mark = allocationMark();
        try {
            if (wait != 0) {
                throw new UnsupportedOperationException("the engine never waits in GetOverlappedResult"
                        + " (a blocking downcall would pin a virtual thread's carrier)");
            }
            int status = (int) MEM.get(ValueLayout.JAVA_LONG_UNALIGNED, overlapped);
            if (status == STATUS_PENDING) {
                return fail(capture, WinError.ERROR_IO_INCOMPLETE);
            }
            MEM.set(ValueLayout.JAVA_INT_UNALIGNED, bytesOut, (int) MEM.get(ValueLayout.JAVA_LONG_UNALIGNED, overlapped + 8));
            return status == STATUS_SUCCESS ? 1 : fail(capture, win32Error(status));
        } finally {
            accountSince(mark, counter);
        }
    }

    @Override
    public int wsaGetOverlappedResult(MemorySegment capture, long socket, long overlapped, long bytesOut, int wait,
                                      long flagsOut) {
        return fail(capture, WSAENOTSOCK); // no Winsock in the model
    }

    // ---- pipe state and identity --------------------------------------------------------------

    @Override
    public int setNamedPipeHandleState(MemorySegment capture, long handle, long mode, long maxCollection,
                                       long collectTimeout) {
        lock.lock();
        try {
            if (!(object(handle) instanceof PipeEnd end)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            if (mode != 0) {
                int m = MEM.get(ValueLayout.JAVA_INT_UNALIGNED, mode);
                boolean message = (m & PIPE_READMODE_MESSAGE) != 0;
                if (message && !end.pipe.messageType) {
                    return fail(capture, WinError.ERROR_INVALID_PARAMETER); // doc: message mode needs a message-type pipe
                }
                end.messageRead = message;
            }
            return 1;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int getNamedPipeClientProcessId(MemorySegment capture, long handle, long pidOut) {
        return processId(capture, handle, pidOut);
    }

    @Override
    public int getNamedPipeServerProcessId(MemorySegment capture, long handle, long pidOut) {
        return processId(capture, handle, pidOut);
    }

    /** One process in the model: both ends report this JVM's pid (k32 test_namedpipe_process_id, same process). */
    private int processId(MemorySegment capture, long handle, long pidOut) {
        lock.lock();
        try {
            if (!(object(handle) instanceof PipeEnd)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            MEM.set(ValueLayout.JAVA_INT_UNALIGNED, pidOut, (int) PID);
            return 1;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int getNamedPipeInfo(MemorySegment capture, long handle, long flags, long outSize, long inSize,
                                long maxInstances) {
        lock.lock();
        try {
            if (!(object(handle) instanceof PipeEnd end)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            ServerEnd s = end instanceof ServerEnd se ? se : ((ClientEnd) end).server;
            if (flags != 0) {
                MEM.set(ValueLayout.JAVA_INT_UNALIGNED, flags,
                        (end instanceof ServerEnd ? PIPE_SERVER_END : 0) | (end.pipe.messageType ? PIPE_TYPE_MESSAGE : 0));
            }
            if (outSize != 0 && s != null) {
                MEM.set(ValueLayout.JAVA_INT_UNALIGNED, outSize, s.outQuota);
            }
            if (inSize != 0 && s != null) {
                MEM.set(ValueLayout.JAVA_INT_UNALIGNED, inSize, s.inQuota);
            }
            if (maxInstances != 0) {
                MEM.set(ValueLayout.JAVA_INT_UNALIGNED, maxInstances,
                        end.pipe.maxInstances == Integer.MAX_VALUE ? PIPE_UNLIMITED_INSTANCES : end.pipe.maxInstances);
            }
            return 1;
        } finally {
            lock.unlock();
        }
    }

    // ---- processes, tokens, security descriptors: one user, shapes only -----------------------

    /** The SID the model's single user has. */
    static final String USER_SID = "S-1-5-21-1004336348-1177238915-682003330-1001";

    @Override
    public long getCurrentProcess() {
        return -1L; // the pseudo handle (doc GetCurrentProcess)
    }

    @Override
    public long openProcess(MemorySegment capture, int access, int inherit, int pid) {
        lock.lock();
        try {
            if (pid != (int) PID) {
                fail(capture, WinError.ERROR_INVALID_PARAMETER); // doc: what OpenProcess says for a pid that does not exist
                return 0;
            }
            return newHandle(new Process());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int openProcessToken(MemorySegment capture, long process, int access, long tokenOut) {
        lock.lock();
        try {
            if (process != -1L && !(object(process) instanceof Process)) {
                return fail(capture, WinError.ERROR_INVALID_HANDLE);
            }
            MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, tokenOut, newHandle(new Token()));
            return 1;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int getTokenInformation(MemorySegment capture, long token, int infoClass, long buffer, int length,
                                   long returnLengthOut) {
        lock.lock();
        try {
            if (!(object(token) instanceof Token) || infoClass != 1) {
                return fail(capture, WinError.ERROR_INVALID_PARAMETER);
            }
            int needed = 16 + 8; // TOKEN_USER {PSID Sid; DWORD Attributes;} + the SID's model memory pointer
            MEM.set(ValueLayout.JAVA_INT_UNALIGNED, returnLengthOut, needed);
            if (length < needed) {
                return fail(capture, WinError.ERROR_INSUFFICIENT_BUFFER); // doc: size query
            }
            MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, buffer, buffer + 16); // Sid points inside the buffer
            MEM.set(ValueLayout.JAVA_INT_UNALIGNED, buffer + 8, 0);
            MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, buffer + 16, 0x5EED_51D0L); // an opaque SID marker
            return 1;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int convertSidToStringSidW(MemorySegment capture, long sid, long stringOut) {
        lock.lock();
        try {
            if (MEM.get(ValueLayout.JAVA_LONG_UNALIGNED, sid) != 0x5EED_51D0L) {
                return fail(capture, WinError.ERROR_INVALID_PARAMETER);
            }
            MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, stringOut, localAllocString(USER_SID));
            return 1;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int convertStringSecurityDescriptorToSecurityDescriptorW(MemorySegment capture, long sddl, int revision,
                                                                    long descriptorOut, long sizeOut) {
        String text = wide(sddl);
        lock.lock();
        try {
            // shape only: a DACL, owner, group or SACL section (doc: Security Descriptor String Format)
            if (revision != 1 || !text.matches("([OGDS]:.+)+")) {
                return fail(capture, WinError.ERROR_INVALID_PARAMETER);
            }
            MEM.set(ValueLayout.JAVA_LONG_UNALIGNED, descriptorOut, localAllocString(text));
            if (sizeOut != 0) {
                MEM.set(ValueLayout.JAVA_INT_UNALIGNED, sizeOut, 2 * text.length() + 2);
            }
            return 1;
        } finally {
            lock.unlock();
        }
    }

    private long localAllocString(String s) {
        Arena a = Arena.ofShared();
        MemorySegment m = a.allocateFrom(s, StandardCharsets.UTF_16LE);
        localAllocations.put(m.address(), a);
        return m.address();
    }

    @Override
    public long localFree(MemorySegment capture, long memory) {
        lock.lock();
        try {
            Arena a = localAllocations.remove(memory);
            if (a == null) {
                fail(capture, WinError.ERROR_INVALID_HANDLE);
                return memory; // doc LocalFree: the handle on failure
            }
            a.close();
            return 0;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int equalSid(MemorySegment capture, long a, long b) {
        return MEM.get(ValueLayout.JAVA_LONG_UNALIGNED, a) == MEM.get(ValueLayout.JAVA_LONG_UNALIGNED, b) ? 1 : 0;
    }

    /** Open handles of every kind, for leak checks (the model's GetProcessHandleCount). */
    int openHandles() {
        lock.lock();
        try {
            int n = 0;
            for (Object o : handles) {
                if (o != null) {
                    n++;
                }
            }
            return n;
        } finally {
            lock.unlock();
        }
    }
}

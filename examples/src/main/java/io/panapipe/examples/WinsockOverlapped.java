package io.panapipe.examples;

import io.panapipe.PipeException;
import io.panapipe.bindings.windows.LPWSAOVERLAPPED_COMPLETION_ROUTINE;
import io.panapipe.bindings.windows.Win32;
import io.panapipe.bindings.windows.WSAData;
import io.panapipe.bindings.windows._OVERLAPPED;
import io.panapipe.bindings.windows._WSABUF;
import io.panapipe.bindings.windows.sockaddr_in;
import io.panapipe.windows.IocpHandle;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Overlapped socket I/O (Winsock). A TCP socket pair on 127.0.0.1 made with
 * {@code WSASocketW(..., WSA_FLAG_OVERLAPPED)}, and one message sent and received three ways:
 *
 * <ol>
 *   <li>{@link #viaEvents}: {@code WSASend}/{@code WSARecv} with an event in the WSAOVERLAPPED,
 *       waited for with {@code WSAWaitForMultipleEvents}, finished with {@code WSAGetOverlappedResult};</li>
 *   <li>{@link #viaCompletionRoutine}: {@code WSARecv} with a completion routine (a Java upcall)
 *       that runs during an alertable {@code SleepEx};</li>
 *   <li>{@link #viaCompletionPort}: the same calls with a NULL event and routine, waited for by
 *       Panapipe's I/O completion port through {@link IocpHandle} — on virtual threads.</li>
 * </ol>
 * Windows only.
 */
public final class WinsockOverlapped {
    private WinsockOverlapped() {
    }

    private static final Captured WSA_SOCKET = Captured.of(Win32.WSASocketW$address(), Win32.WSASocketW$descriptor());
    private static final Captured WSA_SEND = Captured.of(Win32.WSASend$address(), Win32.WSASend$descriptor());
    private static final Captured WSA_RECV = Captured.of(Win32.WSARecv$address(), Win32.WSARecv$descriptor());
    private static final Captured CONNECT = Captured.of(Win32.connect$address(), Win32.connect$descriptor());
    // Every call whose failure is reported reads WSAGetLastError from its own captured state, never
    // from a second downcall (Win32.WSAGetLastError()), which may see a value the JVM changed between.
    private static final Captured BIND = Captured.of(Win32.bind$address(), Win32.bind$descriptor());
    private static final Captured LISTEN = Captured.of(Win32.listen$address(), Win32.listen$descriptor());
    private static final Captured GETSOCKNAME = Captured.of(Win32.getsockname$address(), Win32.getsockname$descriptor());
    private static final Captured ACCEPT = Captured.of(Win32.accept$address(), Win32.accept$descriptor());
    private static final Captured WSA_GET_OVERLAPPED_RESULT =
            Captured.of(Win32.WSAGetOverlappedResult$address(), Win32.WSAGetOverlappedResult$descriptor());

    /** A connected pair of overlapped sockets: {@code client} → {@code server}. */
    public record SocketPair(long client, long server) implements AutoCloseable {
        @Override
        public void close() {
            Win32.closesocket(client);
            Win32.closesocket(server);
        }
    }

    /** {@code WSAStartup(2.2)}; pair with {@link #cleanup()}. */
    public static void startup() throws PipeException {
        try (Arena arena = Arena.ofConfined()) {
            int rc = Win32.WSAStartup((short) 0x0202, WSAData.allocate(arena));
            if (rc != 0) {
                throw new PipeException("WSAStartup", rc, "WSA_" + rc, null);
            }
        }
    }

    public static void cleanup() {
        Win32.WSACleanup();
    }

    /** Listens on 127.0.0.1:0, connects, accepts: both ends are overlapped sockets. */
    public static SocketPair pair() throws PipeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Captured.state(arena);
            long listener = socket(state);
            try {
                MemorySegment addr = sockaddr_in.allocate(arena);
                sockaddr_in.sin_family(addr, (short) Win32.AF_INET());
                sockaddr_in.sin_port(addr, (short) 0);
                addr.set(ValueLayout.JAVA_INT_UNALIGNED, 4, Win32.htonl(Win32.INADDR_LOOPBACK()));
                int len = (int) sockaddr_in.sizeof();
                check(BIND.callInt(state, listener, addr, len), state, "bind");
                check(LISTEN.callInt(state, listener, Win32.SOMAXCONN()), state, "listen");
                MemorySegment lenOut = arena.allocateFrom(ValueLayout.JAVA_INT, len);
                check(GETSOCKNAME.callInt(state, listener, addr, lenOut), state, "getsockname");
                long client = socket(state);
                // a blocking connect (sockets block by default; the overlapped flag only allows overlapped calls)
                if (CONNECT.callInt(state, client, addr, len) != 0) {
                    int error = Captured.wsaLastError(state);
                    Win32.closesocket(client);
                    throw new PipeException("connect", error, "WSA_" + error, null);
                }
                long server = (long) ACCEPT.call(state, listener, MemorySegment.NULL, MemorySegment.NULL); // the backlog has it
                if (server == Win32.INVALID_SOCKET()) {
                    int error = Captured.wsaLastError(state);
                    Win32.closesocket(client);
                    throw new PipeException("accept", error, "WSA_" + error, null);
                }
                return new SocketPair(client, server);
            } finally {
                Win32.closesocket(listener);
            }
        }
    }

    private static long socket(MemorySegment state) throws PipeException {
        long s = (long) WSA_SOCKET.call(state, Win32.AF_INET(), Win32.SOCK_STREAM(), Win32.IPPROTO_TCP(),
                MemorySegment.NULL, 0, Win32.WSA_FLAG_OVERLAPPED());
        if (s == Win32.INVALID_SOCKET()) {
            int error = Captured.wsaLastError(state);
            throw new PipeException("WSASocketW", error, "WSA_" + error, null);
        }
        return s;
    }

    private static void check(int rc, MemorySegment state, String what) throws PipeException {
        if (rc != 0) {
            int error = Captured.wsaLastError(state);
            throw new PipeException(what, error, "WSA_" + error, null);
        }
    }

    private static MemorySegment wsabuf(Arena arena, MemorySegment data) {
        MemorySegment b = _WSABUF.allocate(arena);
        _WSABUF.len(b, (int) data.byteSize());
        _WSABUF.buf(b, data);
        return b;
    }

    /** 1. Completion through an event: WSAWaitForMultipleEvents + WSAGetOverlappedResult. */
    public static String viaEvents(SocketPair pair, String message) throws PipeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Captured.state(arena);
            MemorySegment sendEvent = Win32.WSACreateEvent();
            MemorySegment recvEvent = Win32.WSACreateEvent();
            try {
                MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, message.getBytes(StandardCharsets.UTF_8));
                MemorySegment buf = arena.allocate(1024);
                MemorySegment recvOv = _OVERLAPPED.allocate(arena);
                _OVERLAPPED.hEvent(recvOv, recvEvent);
                MemorySegment flags = arena.allocateFrom(ValueLayout.JAVA_INT, 0);
                int rc = WSA_RECV.callInt(state, pair.server(), wsabuf(arena, buf), 1, MemorySegment.NULL, flags, recvOv,
                        MemorySegment.NULL);
                expectPendingOrDone(rc, state, "WSARecv");

                MemorySegment sendOv = _OVERLAPPED.allocate(arena);
                _OVERLAPPED.hEvent(sendOv, sendEvent);
                rc = WSA_SEND.callInt(state, pair.client(), wsabuf(arena, data), 1, MemorySegment.NULL, 0, sendOv,
                        MemorySegment.NULL);
                expectPendingOrDone(rc, state, "WSASend");

                MemorySegment events = arena.allocate(ValueLayout.ADDRESS, 2);
                events.setAtIndex(ValueLayout.ADDRESS, 0, sendEvent);
                events.setAtIndex(ValueLayout.ADDRESS, 1, recvEvent);
                int wait = Win32.WSAWaitForMultipleEvents(2, events, 1, 5000, 0); // wait for both
                if (wait == Win32.WSA_WAIT_TIMEOUT() || wait == Win32.WSA_WAIT_FAILED()) {
                    throw new PipeException("WSAWaitForMultipleEvents", wait, "WSA_WAIT_TIMEOUT", null);
                }
                MemorySegment n = arena.allocate(ValueLayout.JAVA_INT);
                MemorySegment outFlags = arena.allocate(ValueLayout.JAVA_INT);
                check(WSA_GET_OVERLAPPED_RESULT.callInt(state, pair.client(), sendOv, n, 0, outFlags) != 0 ? 0 : -1, state,
                        "WSAGetOverlappedResult(send)");
                check(WSA_GET_OVERLAPPED_RESULT.callInt(state, pair.server(), recvOv, n, 0, outFlags) != 0 ? 0 : -1, state,
                        "WSAGetOverlappedResult(recv)");
                return new String(buf.asSlice(0, n.get(ValueLayout.JAVA_INT, 0)).toArray(ValueLayout.JAVA_BYTE),
                        StandardCharsets.UTF_8);
            } finally {
                Win32.WSACloseEvent(sendEvent);
                Win32.WSACloseEvent(recvEvent);
            }
        }
    }

    /** 2. Completion through a routine run during an alertable wait. */
    public static String viaCompletionRoutine(SocketPair pair, String message) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Captured.state(arena);
            MemorySegment buf = arena.allocate(1024);
            MemorySegment ov = _OVERLAPPED.allocate(arena);
            int[] seen = {-1, -1};
            MemorySegment routine = LPWSAOVERLAPPED_COMPLETION_ROUTINE.allocate((error, n, lpOverlapped, flags) -> {
                seen[0] = error;
                seen[1] = n;
            }, arena);
            MemorySegment flags = arena.allocateFrom(ValueLayout.JAVA_INT, 0);
            int rc = WSA_RECV.callInt(state, pair.server(), wsabuf(arena, buf), 1, MemorySegment.NULL, flags, ov, routine);
            expectPendingOrDone(rc, state, "WSARecv");
            // send with a plain blocking call from another socket; the routine fires on this thread
            MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, message.getBytes(StandardCharsets.UTF_8));
            MemorySegment sent = arena.allocate(ValueLayout.JAVA_INT);
            rc = WSA_SEND.callInt(state, pair.client(), wsabuf(arena, data), 1, sent, 0, MemorySegment.NULL,
                    MemorySegment.NULL);
            if (rc != 0) {
                throw new PipeException("WSASend", Captured.wsaLastError(state), "WSASend", null);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (seen[0] < 0 && System.nanoTime() < deadline) {
                Win32.SleepEx(1000, 1); // alertable: the routine runs here, as an APC
            }
            if (seen[0] != 0) {
                throw new PipeException("WSARecv completion routine", seen[0], "WSA_" + seen[0], "did not complete");
            }
            return new String(buf.asSlice(0, seen[1]).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    /** 3. The same calls with no event and no routine, on Panapipe's completion port, from virtual threads. */
    public static String viaCompletionPort(SocketPair pair, String message) throws Exception {
        try (IocpHandle server = IocpHandle.associate(pair.server());
             IocpHandle client = IocpHandle.associate(pair.client());
             Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(1024);
            MemorySegment recvBuf = wsabuf(arena, buf);
            MemorySegment flags = arena.allocateFrom(ValueLayout.JAVA_INT, 0);
            CompletableFuture<Integer> received = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try (Arena local = Arena.ofConfined()) {
                    MemorySegment state = Captured.state(local);
                    received.complete(server.read(ov -> {
                        int rc = WSA_RECV.callInt(state, pair.server(), recvBuf, 1, MemorySegment.NULL, flags,
                                MemorySegment.ofAddress(ov), MemorySegment.NULL);
                        return rc == 0 ? 0 : Captured.wsaLastError(state);
                    }, Duration.ofSeconds(5)));
                } catch (Throwable t) {
                    received.completeExceptionally(t);
                }
            });
            MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, message.getBytes(StandardCharsets.UTF_8));
            MemorySegment sendBuf = wsabuf(arena, data);
            MemorySegment state = Captured.state(arena);
            int sent = client.write(ov -> {
                int rc = WSA_SEND.callInt(state, pair.client(), sendBuf, 1, MemorySegment.NULL, 0,
                        MemorySegment.ofAddress(ov), MemorySegment.NULL);
                return rc == 0 ? 0 : Captured.wsaLastError(state);
            }, Duration.ofSeconds(5));
            int n = received.get(10, TimeUnit.SECONDS);
            if (sent != data.byteSize()) {
                throw new IOException("sent " + sent + " of " + data.byteSize());
            }
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    private static void expectPendingOrDone(int rc, MemorySegment state, String what) throws PipeException {
        if (rc != 0) {
            int error = Captured.wsaLastError(state);
            if (error != Win32.WSA_IO_PENDING()) {
                throw new PipeException(what, error, "WSA_" + error, null);
            }
        }
    }
}

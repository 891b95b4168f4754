package io.panapipe.internal.linux;

import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.iovec;
import io.panapipe.bindings.linux.msghdr;
import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.ServerEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The epoll engine's short-read shortcut: after a read into the pipe's own memory came back short,
 * the next read waits for the socket's next edge without first calling {@code recv}. These tests
 * build the cases in which a short read does <em>not</em> leave the socket empty for good (end of
 * stream, descriptors passed with the bytes, out-of-band data) with the edges already dispatched
 * before the read, and check that the bytes behind still arrive instead of the read waiting for an
 * edge that never comes. Each read runs on a virtual thread (the path that waits on tickets) with a
 * 5 s limit, so a stranded read fails the test with a timeout instead of hanging it.
 */
@EnabledOnOs(OS.LINUX)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EpollReadAheadTest {
    private static final long LIMIT = TimeUnit.SECONDS.toNanos(5);
    private static final int MSG_OOB = 1; // <sys/socket.h>; not among the generated constants

    private EpollEngine engine;
    private PipeName name;
    private ServerEndpoint server;
    private PipeChannel served;
    private Arena arena;
    private MemorySegment errno;

    @BeforeEach
    void setUp() throws Exception {
        // No spinning: a spin retries the recv and so would hide a read that waits for nothing.
        engine = EpollEngine.createPrivate(1, new SpinPolicy(0));
        name = PipeName.of("epoll-ahead-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        server = engine.bind(name, PipeOptions.defaults());
        arena = Arena.ofShared();
        errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (served != null) {
            served.close();
        }
        server.gate().startClose();
        server.release();
        arena.close();
    }

    /** Accepts the connection {@code connect} makes; the served end is {@link #served}. */
    private <T> T connectAndAccept(IoCall<T> connect) throws Exception {
        CompletableFuture<PipeChannel> accepted = Accepts.async(server).thenApply(t -> new PipeChannel(t, PipeMode.BYTE, 4096));
        T client = connect.call();
        served = accepted.get(10, TimeUnit.SECONDS);
        return client;
    }

    /** A raw client socket, so the test can send what a Pipe never sends. */
    private int rawClient() throws Exception {
        return connectAndAccept(() -> UnixEndpoints.connect(name, PipeOptions.defaults()));
    }

    /** One read of the served end on a fresh virtual thread. */
    private int readVirtual(MemorySegment buf) throws Exception {
        CompletableFuture<Object> r = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                r.complete(served.read(buf, LIMIT));
            } catch (Throwable t) {
                r.complete(t);
            }
        });
        Object o = r.get(30, TimeUnit.SECONDS);
        if (o instanceof Throwable t) {
            throw new AssertionError("the read failed: " + t, t);
        }
        return (Integer) o;
    }

    private void send(int fd, String text, int flags) {
        MemorySegment bytes = arena.allocateFrom(text, StandardCharsets.US_ASCII);
        long n = LibC.send(errno, fd, bytes.address(), text.length(), flags | Linux.MSG_NOSIGNAL());
        if (n != text.length()) {
            throw new AssertionError("send returned " + n + ", errno " + LibC.errno(errno));
        }
    }

    /** Registers the served socket with the poller: a read that has to wait, then a byte to end it. */
    private void waitOnceThenGetAByte(int fd) throws Exception {
        MemorySegment one = arena.allocate(1);
        CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> {
            try {
                return readVirtual(one);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(200); // parked, so registered
        send(fd, "!", 0);
        assertEquals(1, first.get(10, TimeUnit.SECONDS));
    }

    @Test
    void requestAndResponseOverManySmallReadsStayInOrder() throws Exception {
        PipeChannel client = connectAndAccept(() -> new PipeChannel(engine.connect(name, PipeOptions.defaults()), PipeMode.BYTE, 4096));
        try {
            MemorySegment request = arena.allocate(100);
            MemorySegment answer = arena.allocate(100);
            Thread echo = Thread.ofVirtual().start(() -> {
                MemorySegment buf = arena.allocate(7); // smaller than the messages: most reads are from the read-ahead
                try {
                    for (int n; (n = served.read(buf, LIMIT)) > 0; ) {
                        served.write(buf.asSlice(0, n), LIMIT);
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            for (int i = 0; i < 2_000; i++) {
                int size = 1 + i % 100;
                for (int j = 0; j < size; j++) {
                    request.set(ValueLayout.JAVA_BYTE, j, (byte) (i + j));
                }
                assertEquals(size, client.write(request.asSlice(0, size), LIMIT));
                int got = 0;
                while (got < size) {
                    int n = client.read(answer.asSlice(got, size - got), LIMIT);
                    assertTrue(n > 0);
                    got += n;
                }
                assertEquals(-1, request.asSlice(0, size).mismatch(answer.asSlice(0, size)), "round " + i);
            }
            client.close();
            assertTrue(echo.join(java.time.Duration.ofSeconds(10)), "the echo loop saw end of stream");
        } finally {
            client.close();
        }
    }

    @Test
    void endOfStreamAfterAShortReadIsNotMissed() throws Exception {
        int fd = rawClient();
        try {
            waitOnceThenGetAByte(fd);
            send(fd, "0123456789", 0);
            LibC.close(errno, fd);
            fd = -1;
            Thread.sleep(300); // the poller dispatches the data and hang-up edges before the next read
            MemorySegment buf = arena.allocate(64);
            assertEquals(10, readVirtual(buf), "a short read of everything sent");
            assertEquals(-1, readVirtual(buf), "then end of stream, not a wait for an edge that never comes");
        } finally {
            if (fd >= 0) {
                LibC.close(errno, fd);
            }
        }
    }

    @Test
    void bytesQueuedBehindPassedDescriptorsAreNotStranded() throws Throwable {
        int fd = rawClient();
        try {
            waitOnceThenGetAByte(fd);
            sendWithDescriptor(fd, "A", fd); // the kernel ends a read after bytes that carried descriptors
            send(fd, "BCD", 0);
            Thread.sleep(300);
            MemorySegment buf = arena.allocate(64);
            assertEquals(1, readVirtual(buf), "the read stops after the bytes with the descriptor");
            assertEquals("A", buf.getString(0, StandardCharsets.US_ASCII).substring(0, 1));
            assertArrayEquals("BCD".getBytes(StandardCharsets.US_ASCII), readUntil('D'), "the bytes behind them arrive");
        } finally {
            LibC.close(errno, fd);
        }
    }

    @Test
    void bytesQueuedBehindUrgentDataAreNotStranded() throws Exception {
        int fd = rawClient();
        try {
            waitOnceThenGetAByte(fd);
            send(fd, "A", 0);
            MemorySegment x = arena.allocateFrom("X", StandardCharsets.US_ASCII);
            long oob = LibC.send(errno, fd, x.address(), 1, MSG_OOB | Linux.MSG_NOSIGNAL());
            Assumptions.assumeTrue(oob == 1, "this kernel has no AF_UNIX out-of-band data (errno "
                    + LibC.errno(errno) + "), so it cannot end a read early either");
            send(fd, "BC", 0);
            Thread.sleep(300);
            // Whatever the kernel does with the urgent byte, the ordinary bytes all arrive, in order.
            String got = new String(readUntil('C'), StandardCharsets.US_ASCII).replace("X", "");
            assertEquals("ABC", got);
        } finally {
            LibC.close(errno, fd);
        }
    }

    /** Reads on virtual threads until a read ends with {@code last}; fails on end of stream. */
    private byte[] readUntil(char last) throws Exception {
        MemorySegment buf = arena.allocate(64);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (got.size() == 0 || got.toByteArray()[got.size() - 1] != last) {
            int n = readVirtual(buf);
            assertTrue(n > 0, "end of stream after " + got);
            got.write(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
        }
        return got.toByteArray();
    }

    @Test
    void aReadWithAZeroTimeoutStillTakesBytesThatAlreadyArrived() throws Exception {
        int fd = rawClient();
        try {
            waitOnceThenGetAByte(fd);
            MemorySegment buf = arena.allocate(64);
            send(fd, "ab", 0);
            assertEquals(2, readVirtual(buf)); // short: the socket is empty now
            send(fd, "cd", 0); // its edge may not be dispatched when the next read starts
            assertEquals(2, served.read(buf, 0), "a zero-timeout read finds the bytes in the socket");
        } finally {
            LibC.close(errno, fd);
        }
    }

    /** {@code sendmsg} of {@code text} with one descriptor attached ({@code SCM_RIGHTS}). */
    private void sendWithDescriptor(int fd, String text, int passed) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle sendmsg = linker.downcallHandle(linker.defaultLookup().find("sendmsg").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MemorySegment data = arena.allocateFrom(text, StandardCharsets.US_ASCII);
        MemorySegment iov = iovec.allocate(arena);
        iovec.iov_base(iov, data);
        iovec.iov_len(iov, text.length());
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } + one int, CMSG_SPACE = 24
        MemorySegment control = arena.allocate(24, 8);
        control.set(ValueLayout.JAVA_LONG, 0, 16 + 4); // CMSG_LEN(sizeof(int))
        control.set(ValueLayout.JAVA_INT, 8, Linux.SOL_SOCKET());
        control.set(ValueLayout.JAVA_INT, 12, Linux.SCM_RIGHTS());
        control.set(ValueLayout.JAVA_INT, 16, passed);
        MemorySegment msg = msghdr.allocate(arena);
        msghdr.msg_iov(msg, iov);
        msghdr.msg_iovlen(msg, 1);
        msghdr.msg_control(msg, control);
        msghdr.msg_controllen(msg, 24);
        long n = (long) sendmsg.invokeExact(fd, msg, Linux.MSG_NOSIGNAL());
        assertEquals(text.length(), n, "sendmsg with SCM_RIGHTS");
    }

    @FunctionalInterface
    private interface IoCall<T> {
        T call() throws Exception;
    }
}

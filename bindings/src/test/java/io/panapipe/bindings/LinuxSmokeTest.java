package io.panapipe.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.io_uring_params;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** Calls through the Linux bindings. */
@EnabledOnOs(OS.LINUX)
class LinuxSmokeTest {

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    @Test
    void getpidMatchesTheJvm() {
        assertEquals(ProcessHandle.current().pid(), Linux.getpid());
    }

    @Test
    void socketThenClose() {
        int fd = Linux.socket(Linux.AF_UNIX(), Linux.SOCK_STREAM() | Linux.SOCK_CLOEXEC(), 0);
        assertTrue(fd >= 0, "socket() returned " + fd);
        assertEquals(0, Linux.close(fd));
    }

    @Test
    void socketpairRoundTrip() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            assertEquals(0, Linux.socketpair(Linux.AF_UNIX(), Linux.SOCK_SEQPACKET() | Linux.SOCK_CLOEXEC(), 0, fds));
            int a = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
            int b = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
            MemorySegment out = arena.allocateFrom("hello");
            assertEquals(6, Linux.send(a, out, 6, Linux.MSG_NOSIGNAL()));
            MemorySegment in = arena.allocate(64);
            assertEquals(6, Linux.recv(b, in, 64, 0));
            assertEquals("hello", in.getString(0));
            assertEquals(0, Linux.close(a));
            assertEquals(0, Linux.close(b));
        }
    }

    /** The pattern README.md documents: errno captured by the downcall itself. */
    @Test
    void errnoIsCapturedWithCaptureCallState() throws Throwable {
        MethodHandle close = Linker.nativeLinker().downcallHandle(
                Linux.close$address(), Linux.close$descriptor(), Linker.Option.captureCallState("errno"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) close.invokeExact(state, -1);
            assertEquals(-1, rc);
            assertEquals(Linux.EBADF(), (int) ERRNO.get(state, 0L));
            assertEquals("Bad file descriptor", Linux.strerror(Linux.EBADF()).reinterpret(256).getString(0));
        }
    }

    /** The variadic fcntl through jextract's invoker. */
    @Test
    void fcntlInvoker() {
        int fd = Linux.socket(Linux.AF_UNIX(), Linux.SOCK_STREAM() | Linux.SOCK_NONBLOCK(), 0);
        try {
            int flags = Linux.fcntl.makeInvoker().apply(fd, Linux.F_GETFL());
            assertNotEquals(0, flags & Linux.O_NONBLOCK());
            assertEquals(0, Linux.fcntl.makeInvoker(Linux.C_INT).apply(fd, Linux.F_SETFL(), flags & ~Linux.O_NONBLOCK()));
            assertEquals(0, Linux.fcntl.makeInvoker().apply(fd, Linux.F_GETFL()) & Linux.O_NONBLOCK());
        } finally {
            Linux.close(fd);
        }
    }

    /** io_uring_setup through the variadic syscall(2); skipped where the kernel forbids io_uring. */
    @Test
    void ioUringSetup() throws Throwable {
        MethodHandle syscall = Linker.nativeLinker().downcallHandle(
                Linux.syscall.address(),
                Linux.syscall.makeInvoker(Linux.C_INT, Linux.C_POINTER).descriptor(),
                Linker.Option.firstVariadicArg(1),
                Linker.Option.captureCallState("errno"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment params = io_uring_params.allocate(arena); // zeroed
            long fd = (long) syscall.invokeExact(state, (long) Linux.SYS_io_uring_setup(), 2, params);
            int errno = (int) ERRNO.get(state, 0L);
            Assumptions.assumeTrue(fd >= 0, "io_uring_setup failed here, errno " + errno);
            assertTrue(io_uring_params.sq_entries(params) >= 2);
            assertNotEquals(0, io_uring_params.features(params) & Linux.IORING_FEAT_SINGLE_MMAP());
            assertEquals(0, Linux.close((int) fd));
        }
    }
}

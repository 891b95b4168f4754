package io.panapipe.internal.linux;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeOptions;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.sockaddr_un;
import io.panapipe.bindings.linux.ucred;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * AF_UNIX socket set-up: creating non-blocking sockets of the right type, {@code sockaddr_un},
 * socket options and {@code SO_PEERCRED}. Set-up calls only; the I/O paths are in
 * {@link UringTransport} and {@link UringServer}.
 */
final class UnixSockets {
    private UnixSockets() {
    }

    static final int AF_UNIX = Linux.AF_UNIX();
    static final int SOL_SOCKET = Linux.SOL_SOCKET();
    static final int NONBLOCK_CLOEXEC = Linux.SOCK_NONBLOCK() | Linux.SOCK_CLOEXEC();

    /** {@code SOCK_STREAM} for BYTE, {@code SOCK_SEQPACKET} for MESSAGE. */
    static int type(PipeMode mode) {
        return mode == PipeMode.MESSAGE ? Linux.SOCK_SEQPACKET() : Linux.SOCK_STREAM();
    }

    /** A new non-blocking, close-on-exec AF_UNIX socket. */
    static int open(MemorySegment errno, PipeMode mode) throws IOException {
        int fd = LibC.socket(errno, AF_UNIX, type(mode) | NONBLOCK_CLOEXEC, 0);
        if (fd < 0) {
            int e = LibC.errno(errno);
            throw Errnos.exception("socket(AF_UNIX, " + (mode == PipeMode.MESSAGE ? "SOCK_SEQPACKET" : "SOCK_STREAM") + ")",
                    e, UnixEndpoints.acceptAdvice(e));
        }
        return fd;
    }

    /** A {@code sockaddr_un} for {@code path}; its length to pass is {@link #addressLength}. */
    static MemorySegment address(Arena arena, Path path) {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        long max = sockaddr_un.sun_path$layout().byteSize() - 1;
        if (bytes.length > max) {
            throw new IllegalArgumentException("socket path of " + bytes.length + " bytes exceeds the sun_path limit of "
                    + max + " bytes: " + path);
        }
        MemorySegment addr = sockaddr_un.allocate(arena); // zeroed, so sun_path is NUL-terminated
        sockaddr_un.sun_family(addr, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, addr, ValueLayout.JAVA_BYTE, sockaddr_un.sun_path$offset(), bytes.length);
        return addr;
    }

    static int addressLength(Path path) {
        return (int) (sockaddr_un.sun_path$offset() + path.toString().getBytes(StandardCharsets.UTF_8).length + 1);
    }

    /** Applies {@code SO_RCVBUF}/{@code SO_SNDBUF} when the options ask for them. */
    static void applyBufferSizes(MemorySegment errno, int fd, PipeOptions options, MemorySegment intScratch)
            throws IOException {
        if (options.inBufferSize() > 0) {
            setInt(errno, fd, Linux.SO_RCVBUF(), options.inBufferSize(), intScratch, "SO_RCVBUF");
        }
        if (options.outBufferSize() > 0) {
            setInt(errno, fd, Linux.SO_SNDBUF(), options.outBufferSize(), intScratch, "SO_SNDBUF");
        }
    }

    /**
     * MESSAGE mode: {@code SO_PASSCRED}, so that every queued message, even an empty one, carries
     * an {@code SCM_CREDENTIALS} control message. That is how {@link UringTransport} tells an
     * empty message from end of stream, both of which {@code recv} reports as 0 on SEQPACKET.
     */
    static void enablePassCred(MemorySegment errno, int fd, MemorySegment intScratch) throws IOException {
        setInt(errno, fd, Linux.SO_PASSCRED(), 1, intScratch, "SO_PASSCRED");
    }

    private static void setInt(MemorySegment errno, int fd, int option, int value, MemorySegment intScratch,
                               String what) throws IOException {
        intScratch.set(ValueLayout.JAVA_INT, 0, value);
        if (LibC.setsockopt(errno, fd, SOL_SOCKET, option, intScratch, Integer.BYTES) < 0) {
            throw Errnos.exception("setsockopt(" + what + ", " + value + ")", LibC.errno(errno));
        }
    }

    /**
     * {@code getsockopt(SO_PEERCRED)} into {@code cred} (a {@code struct ucred});
     * {@code lengthScratch} is a 4-byte socklen_t.
     */
    static void peerCred(MemorySegment errno, int fd, MemorySegment cred, MemorySegment lengthScratch)
            throws IOException {
        lengthScratch.set(ValueLayout.JAVA_INT, 0, (int) ucred.sizeof());
        if (LibC.getsockopt(errno, fd, SOL_SOCKET, Linux.SO_PEERCRED(), cred, lengthScratch) < 0) {
            throw Errnos.exception("getsockopt(SO_PEERCRED)", LibC.errno(errno));
        }
    }

    /**
     * The exception for a failed {@code send} of {@code length} bytes: a gone peer is
     * {@code EPIPE} whatever the kernel said, an over-long SEQPACKET message gets advice.
     */
    static PipeException writeFailure(int e, int length) {
        if (e == Errnos.EPIPE || e == Errnos.ECONNRESET || e == Errnos.ENOTCONN) {
            return new PipeException("write", Errnos.EPIPE, "EPIPE",
                    LibC.strerror(Errnos.EPIPE) + ": the other end closed the pipe");
        }
        if (e == Errnos.EMSGSIZE) {
            return Errnos.exception("write of a " + length + "-byte message", e,
                    "a SOCK_SEQPACKET message must fit the socket's send buffer; raise it with "
                            + "PipeOptions.withBufferSizes (capped by /proc/sys/net/core/wmem_max)");
        }
        return Errnos.exception("write", e);
    }

    /** {@code shutdown(fd, SHUT_WR)}: the peer reads end of stream after the data already sent. */
    static void shutdownOutput(int fd) throws IOException {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            if (LibC.shutdown(errno, fd, Linux.SHUT_WR()) < 0) {
                int e = LibC.errno(errno);
                if (e != Errnos.ENOTCONN) { // the peer is gone already: nothing to tell it
                    throw Errnos.exception("shutdown(SHUT_WR)", e);
                }
            }
        }
    }

    /** The process id of the peer of a connected socket ({@code SO_PEERCRED}). */
    static long peerPid(int fd) throws IOException {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            MemorySegment cred = temp.allocate(ucred.layout());
            peerCred(errno, fd, cred, temp.allocate(Integer.BYTES));
            return ucred.pid(cred);
        }
    }

    /** Closes {@code fd}, ignoring errors, from a context without an errno segment (error paths). */
    static void closeQuietly(int fd) {
        try (Arena temp = Arena.ofConfined()) {
            closeQuietly(temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN), fd);
        }
    }

    /** Closes {@code fd}, ignoring errors (error and clean-up paths). */
    static void closeQuietly(MemorySegment errno, int fd) {
        if (fd >= 0) {
            LibC.close(errno, fd);
        }
    }
}

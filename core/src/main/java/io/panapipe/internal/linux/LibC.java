package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc calls of this engine, each with {@code errno} captured by the linker
 * ({@code Linker.Option.captureCallState("errno")}: a separate read of {@code errno} could see a
 * value the JVM clobbered in between; DESIGN rule 9) into a segment the caller
 * passes first. A capture segment belongs to one calling context at a time (a connection's
 * reader, its writer, a server's acceptor, the poller), so
 * no two threads ever write the same one and no call allocates.
 *
 * <p>Handles are built from the generated bindings' addresses and descriptors. Where a buffer is
 * passed at an offset, the pointer parameter is declared as a {@code long} address instead of a
 * segment, so that no slice is allocated per call; the callers check the bounds.
 */
final class LibC {
    private LibC() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO_VALUE = Linker.Option.captureStateLayout()
            .varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final AddressLayout ADDRESS = ValueLayout.ADDRESS;

    /** Bytes of one errno capture segment. */
    static final long ERRNO_SIZE = Linker.Option.captureStateLayout().byteSize();
    /** Bytes of one errno capture segment rounded up to 8: the stride for several in one block. */
    static final long ERRNO_SLOT = (ERRNO_SIZE + 7) & ~7L;
    /** Alignment of one errno capture segment. */
    static final long ERRNO_ALIGN = Linker.Option.captureStateLayout().byteAlignment();

    /** The errno captured by the last call that used {@code state}. */
    static int errno(MemorySegment state) {
        return (int) ERRNO_VALUE.get(state, 0L);
    }

    // ---- handles -------------------------------------------------------------------------------

    private static MethodHandle capturing(MemorySegment address, FunctionDescriptor desc) {
        return LINKER.downcallHandle(address, desc, ERRNO);
    }

    /** {@code desc} with the pointer argument at {@code index} declared as a 64-bit address value. */
    private static FunctionDescriptor pointerAsLong(FunctionDescriptor desc, int index) {
        MemoryLayout[] args = desc.argumentLayouts().toArray(new MemoryLayout[0]);
        args[index] = ValueLayout.JAVA_LONG;
        return FunctionDescriptor.of(desc.returnLayout().orElseThrow(), args);
    }

    private static final MethodHandle RECV = capturing(Linux.recv$address(), pointerAsLong(Linux.recv$descriptor(), 1));
    private static final MethodHandle SEND = capturing(Linux.send$address(), pointerAsLong(Linux.send$descriptor(), 1));
    private static final MethodHandle RECVMSG = capturing(Linux.recvmsg$address(), Linux.recvmsg$descriptor());
    private static final MethodHandle SOCKET = capturing(Linux.socket$address(), Linux.socket$descriptor());
    private static final MethodHandle CONNECT = capturing(Linux.connect$address(), Linux.connect$descriptor());
    private static final MethodHandle BIND = capturing(Linux.bind$address(), Linux.bind$descriptor());
    private static final MethodHandle LISTEN = capturing(Linux.listen$address(), Linux.listen$descriptor());
    private static final MethodHandle ACCEPT4 = capturing(Linux.accept4$address(), Linux.accept4$descriptor());
    private static final MethodHandle GETSOCKOPT = capturing(Linux.getsockopt$address(), Linux.getsockopt$descriptor());
    private static final MethodHandle SETSOCKOPT = capturing(Linux.setsockopt$address(), Linux.setsockopt$descriptor());
    private static final MethodHandle CLOSE = capturing(Linux.close$address(), Linux.close$descriptor());
    private static final MethodHandle MMAP = capturing(Linux.mmap$address(), Linux.mmap$descriptor());
    private static final MethodHandle MUNMAP = capturing(Linux.munmap$address(), Linux.munmap$descriptor());
    private static final MethodHandle EVENTFD = capturing(Linux.eventfd$address(), Linux.eventfd$descriptor());
    private static final MethodHandle RECV_SEGMENT = capturing(Linux.recv$address(), Linux.recv$descriptor());
    private static final MethodHandle SEND_SEGMENT = capturing(Linux.send$address(), Linux.send$descriptor());
    private static final MethodHandle EPOLL_CREATE1 = capturing(Linux.epoll_create1$address(), Linux.epoll_create1$descriptor());
    private static final MethodHandle EPOLL_CTL = capturing(Linux.epoll_ctl$address(), Linux.epoll_ctl$descriptor());
    private static final MethodHandle EPOLL_WAIT = capturing(Linux.epoll_wait$address(), Linux.epoll_wait$descriptor());
    private static final MethodHandle POLL = capturing(Linux.poll$address(), Linux.poll$descriptor());
    private static final MethodHandle SHUTDOWN = capturing(Linux.shutdown$address(), Linux.shutdown$descriptor());
    /** {@code write} without errno capture: used only to signal an eventfd, from any thread. */
    private static final MethodHandle WRITE_NO_ERRNO = LINKER.downcallHandle(Linux.write$address(),
            pointerAsLong(Linux.write$descriptor(), 1));

    // <stdlib.h> is not among the headers the bindings are generated from: the C library's
    // allocator comes straight from the linker's default lookup (libc).
    private static final MethodHandle CALLOC = libc("calloc", FunctionDescriptor.of(ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle ALIGNED_ALLOC = libc("aligned_alloc", FunctionDescriptor.of(ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = libc("free", FunctionDescriptor.ofVoid(ADDRESS));

    private static MethodHandle libc(String name, FunctionDescriptor desc) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new IllegalStateException("the C library has no " + name)), desc);
    }

    /**
     * {@code syscall} is variadic ({@code long syscall(long number, ...)}): one specialised handle
     * per argument list, with {@code firstVariadicArg(1)}. Every variadic argument is passed as a
     * full 64-bit value, as glibc reads them with {@code va_arg(ap, long)}.
     */
    private static MethodHandle syscall(MemoryLayout... variadic) {
        FunctionDescriptor desc = FunctionDescriptor.of(Linux.C_LONG, Linux.C_LONG).appendArgumentLayouts(variadic);
        return LINKER.downcallHandle(Linux.syscall.address(), desc, Linker.Option.firstVariadicArg(1), ERRNO);
    }

    /** {@code io_uring_setup(u32 entries, struct io_uring_params *p)}. */
    private static final MethodHandle IO_URING_SETUP = syscall(ValueLayout.JAVA_LONG, ADDRESS);
    /** {@code io_uring_enter(fd, to_submit, min_complete, flags, const void *arg, size_t argsz)}. */
    private static final MethodHandle IO_URING_ENTER = syscall(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);

    /** {@code io_uring_register(fd, opcode, void *arg, nr_args)}. */
    private static final MethodHandle IO_URING_REGISTER = syscall(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);

    private static final long NR_IO_URING_REGISTER = Linux.__NR_io_uring_register();
    private static final long NR_IO_URING_SETUP = Linux.__NR_io_uring_setup();
    private static final long NR_IO_URING_ENTER = Linux.__NR_io_uring_enter();

    // ---- calls ---------------------------------------------------------------------------------

    static long recv(MemorySegment errno, int fd, long address, long length, int flags) {
        try {
            return (long) RECV.invokeExact(errno, fd, address, length, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long send(MemorySegment errno, int fd, long address, long length, int flags) {
        try {
            return (long) SEND.invokeExact(errno, fd, address, length, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long recvmsg(MemorySegment errno, int fd, MemorySegment msghdr, int flags) {
        try {
            return (long) RECVMSG.invokeExact(errno, fd, msghdr, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int socket(MemorySegment errno, int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(errno, domain, type, protocol);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int connect(MemorySegment errno, int fd, MemorySegment addr, int addrLen) {
        try {
            return (int) CONNECT.invokeExact(errno, fd, addr, addrLen);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int bind(MemorySegment errno, int fd, MemorySegment addr, int addrLen) {
        try {
            return (int) BIND.invokeExact(errno, fd, addr, addrLen);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int listen(MemorySegment errno, int fd, int backlog) {
        try {
            return (int) LISTEN.invokeExact(errno, fd, backlog);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int accept4(MemorySegment errno, int fd, int flags) {
        try {
            return (int) ACCEPT4.invokeExact(errno, fd, MemorySegment.NULL, MemorySegment.NULL, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getsockopt(MemorySegment errno, int fd, int level, int name, MemorySegment value, MemorySegment length) {
        try {
            return (int) GETSOCKOPT.invokeExact(errno, fd, level, name, value, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int setsockopt(MemorySegment errno, int fd, int level, int name, MemorySegment value, int length) {
        try {
            return (int) SETSOCKOPT.invokeExact(errno, fd, level, name, value, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int close(MemorySegment errno, int fd) {
        try {
            return (int) CLOSE.invokeExact(errno, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** @return the mapping, or a segment whose address is {@link #MAP_FAILED} */
    static MemorySegment mmap(MemorySegment errno, long length, int prot, int flags, int fd, long offset) {
        try {
            return (MemorySegment) MMAP.invokeExact(errno, MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int munmap(MemorySegment errno, MemorySegment address, long length) {
        try {
            return (int) MUNMAP.invokeExact(errno, address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioUringSetup(MemorySegment errno, int entries, MemorySegment params) {
        try {
            return (int) (long) IO_URING_SETUP.invokeExact(errno, NR_IO_URING_SETUP, (long) entries, params);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioUringEnter(MemorySegment errno, int fd, int toSubmit, int minComplete, int flags) {
        try {
            return (int) (long) IO_URING_ENTER.invokeExact(errno, NR_IO_URING_ENTER, (long) fd,
                    (long) toSubmit, (long) minComplete, (long) flags, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioUringRegister(MemorySegment errno, int fd, int opcode, long arg, int nrArgs) {
        try {
            return (int) (long) IO_URING_REGISTER.invokeExact(errno, NR_IO_URING_REGISTER, (long) fd, (long) opcode,
                    arg, (long) nrArgs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int eventfd(MemorySegment errno, int initval, int flags) {
        try {
            return (int) EVENTFD.invokeExact(errno, initval, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code recv} into a caller's segment passed as the argument: the linker keeps the segment's
     * scope alive for the call (a shared arena cannot be closed meanwhile) and fails before the
     * call if it is closed or confined to another thread (DESIGN rule 12).
     */
    static long recv(MemorySegment errno, int fd, MemorySegment buf, long length, int flags) {
        try {
            return (long) RECV_SEGMENT.invokeExact(errno, fd, buf, length, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code send} from a caller's segment passed as the argument; see {@link #recv(MemorySegment, int, MemorySegment, long, int)}. */
    static long send(MemorySegment errno, int fd, MemorySegment buf, long length, int flags) {
        try {
            return (long) SEND_SEGMENT.invokeExact(errno, fd, buf, length, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int shutdown(MemorySegment errno, int fd, int how) {
        try {
            return (int) SHUTDOWN.invokeExact(errno, fd, how);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollCreate1(MemorySegment errno, int flags) {
        try {
            return (int) EPOLL_CREATE1.invokeExact(errno, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollCtl(MemorySegment errno, int epfd, int op, int fd, MemorySegment event) {
        try {
            return (int) EPOLL_CTL.invokeExact(errno, epfd, op, fd, event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollWait(MemorySegment errno, int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        try {
            return (int) EPOLL_WAIT.invokeExact(errno, epfd, events, maxEvents, timeoutMillis);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int poll(MemorySegment errno, MemorySegment fds, long count, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(errno, fds, count, timeoutMillis);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code calloc(count, size)}: zeroed, 16-aligned on x86-64 and AArch64 glibc; NULL if out of memory. */
    static MemorySegment calloc(long count, long size) {
        try {
            return (MemorySegment) CALLOC.invokeExact(count, size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code aligned_alloc(alignment, size)}, {@code size} a multiple of {@code alignment}; NULL if out of memory. */
    static MemorySegment alignedAlloc(long alignment, long size) {
        try {
            return (MemorySegment) ALIGNED_ALLOC.invokeExact(alignment, size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void free(MemorySegment block) {
        try {
            FREE.invokeExact(block);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code write(fd, address, length)}, errno not captured (the result alone tells success). */
    static long writeNoErrno(int fd, long address, long length) {
        try {
            return (long) WRITE_NO_ERRNO.invokeExact(fd, address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code MAP_FAILED} is {@code ((void *) -1)}, a cast jextract does not turn into a constant;
     * defined here.
     */
    static final long MAP_FAILED = -1L;

    /** {@code getuid()} never fails; no errno needed. */
    static int getuid() {
        return Linux.getuid();
    }

    /** The C library's description of {@code errno}. */
    static String strerror(int errno) {
        MemorySegment s = Linux.strerror(errno);
        return s.equals(MemorySegment.NULL) ? "errno " + errno : s.reinterpret(1024).getString(0);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new AssertionError("unexpected checked exception from a downcall", t);
    }
}

package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.epoll_event;
import io.panapipe.bindings.linux.pollfd;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How a thread waits until one non-blocking socket is readable or writable, in the epoll engine.
 *
 * <p><b>Virtual threads</b> park in Java. The socket is registered edge-triggered with a
 * sub-poller of {@link EpollPollers} once, the first time a virtual thread has to wait on it
 * ({@code EPOLLIN | EPOLLRDHUP | EPOLLPRI}, plus {@code EPOLLOUT} from the first time a writer waits), and
 * stays registered until it is closed: no {@code epoll_ctl} per wait. Each direction has a
 * readiness counter that the poller bumps on every edge and a waiter slot. The waiting protocol
 * is Dekker's: the caller reads the counter ({@link #ticket}) before its non-blocking syscall; on
 * {@code EAGAIN} it publishes itself as the waiter and parks only if the counter is unchanged; the
 * poller bumps the counter and only then reads the waiter to unpark (all volatile), so an edge
 * between the syscall and the park is never lost.
 *
 * <p><b>Platform threads</b> block in {@code poll(2)} on the socket and on this socket's wake-up
 * eventfd (created the first time a platform thread waits), so the kernel wakes them directly —
 * one wake-up, as a blocking JDK channel has — and a close wakes them through the eventfd. A
 * thread's interrupt cannot reach into {@code poll}, so a platform wait returns every
 * {@value #PLATFORM_SLICE_MILLIS} ms to look at its interrupt status.
 */
final class FdReadiness {
    static final int READ = 0;
    static final int WRITE = 1;
    /** {@link #await} outcome: the socket may be ready; retry the syscall. */
    static final int READY = -1;

    private static final int PLATFORM_SLICE_MILLIS = 50;
    private static final int EPOLLIN = Linux.EPOLLIN();
    private static final int EPOLLOUT = Linux.EPOLLOUT();
    private static final int EPOLLRDHUP = Linux.EPOLLRDHUP();
    private static final int EPOLLERR = Linux.EPOLLERR();
    private static final int EPOLLHUP = Linux.EPOLLHUP();
    private static final int EPOLLET = Linux.EPOLLET();
    private static final int EPOLLPRI = Linux.EPOLLPRI();
    /** What a reader registers for: data, the peer's shutdown, and out-of-band data (which ends a read early). */
    private static final int READ_INTEREST = EPOLLIN | EPOLLRDHUP | EPOLLPRI;
    /** Events after which a short read no longer shows the socket empty for good (see {@link Waiter#unusual}). */
    private static final int UNUSUAL_EVENTS = EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI;
    private static final int READ_EVENTS = READ_INTEREST | EPOLLHUP | EPOLLERR;
    private static final int WRITE_EVENTS = EPOLLOUT | EPOLLHUP | EPOLLERR;
    private static final short POLLIN = (short) Linux.POLLIN();
    private static final short POLLOUT = (short) Linux.POLLOUT();
    private static final int EFD_CLOEXEC_NONBLOCK = Linux.EFD_CLOEXEC() | Linux.EFD_NONBLOCK();

    /** One direction's readiness counter and waiter. */
    static final class Waiter {
        private static final VarHandle SEQ;
        private static final VarHandle WOKEN;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                SEQ = l.findVarHandle(Waiter.class, "seq", int.class);
                WOKEN = l.findVarHandle(Waiter.class, "woken", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private volatile int seq;
        private volatile Thread thread;
        private volatile boolean woken;
        /**
         * Set (for good) by the poller, before it bumps {@link #seq}, when an edge reported the
         * peer's shutdown, an error or out-of-band data. A read that came back short then does not
         * prove that nothing is left to signal: end of stream raises no further edge, and
         * out-of-band data ends a read before the bytes queued behind it.
         */
        private volatile boolean unusual;
        /** poll(2) set for a platform thread of this direction: the socket and the wake-up eventfd. */
        private MemorySegment pollFds;
        /** The errno capture of this direction's (one) calling thread, shared with its recv/send. */
        private final MemorySegment errno;

        Waiter(MemorySegment errno) {
            this.errno = errno;
        }

        /** Called by a poller for every edge of this direction. */
        void signal(SpinPolicy spin) {
            SEQ.getAndAdd(this, 1);
            Thread t = thread;
            if (t != null) {
                if (WOKEN.compareAndSet(this, false, true)) {
                    spin.woke();
                }
                LockSupport.unpark(t);
            }
        }

        void ran(SpinPolicy spin) {
            if (woken && WOKEN.compareAndSet(this, true, false)) {
                spin.ran();
            }
        }
    }

    private final EpollPollers pollers;
    private final int fd;
    /** The epoll {@code data} word: table slot and generation, so a stale event finds nobody. */
    final long key;
    final Waiter reader;
    final Waiter writer;
    private final Arena arena;

    // Registration and the wake-up eventfd change rarely: under a lock, with their own scratch.
    private final ReentrantLock lock = new ReentrantLock();
    private final MemorySegment ctlEvent;
    private final MemorySegment ctlErrno;
    private volatile int registered; // the epoll mask this fd is registered with, 0 if none
    private int wakeFd = -1;
    private boolean closing;

    /** Bytes of native scratch a readiness needs ({@link #FdReadiness}'s {@code scratch}). */
    static final long SCRATCH_SIZE = 16 + LibC.ERRNO_SLOT;
    private static final long CTL_ERRNO_OFFSET = 16; // after the 12-byte epoll_event

    /**
     * @param arena the connection's arena, for a platform thread's poll set (freed by its owner after {@link #release})
     * @param scratch {@link #SCRATCH_SIZE} bytes, 8-aligned, of the connection's memory
     * @param readErrno, writeErrno the errno capture of the reader and of the writer
     */
    FdReadiness(EpollPollers pollers, int fd, Arena arena, MemorySegment scratch,
                MemorySegment readErrno, MemorySegment writeErrno) {
        this.pollers = pollers;
        this.fd = fd;
        this.arena = arena;
        this.reader = new Waiter(readErrno);
        this.writer = new Waiter(writeErrno);
        this.ctlEvent = scratch.asSlice(0, epoll_event.layout().byteSize());
        this.ctlErrno = scratch.asSlice(CTL_ERRNO_OFFSET, LibC.ERRNO_SIZE);
        this.key = pollers.table.reserve();
        pollers.table.publish(this);
    }

    /** The readiness counter of {@code w}; read it before the syscall whose {@code EAGAIN} leads to {@link #await}. */
    static int ticket(Waiter w) {
        return w.seq;
    }

    /**
     * Whether a reader may rely on a short read it made with ticket {@code ticket}: no edge has
     * been dispatched since, and no unusual edge ever. Then the socket had nothing more when that
     * read returned, anything that arrived since raises an edge still to come, and the reader may
     * wait with that ticket at once instead of trying the syscall that would say {@code EAGAIN}.
     */
    boolean quietSince(int ticket) {
        return reader.seq == ticket && !reader.unusual;
    }

    /** Called by a poller with the events epoll reported for this fd. */
    void signal(int events) {
        if ((events & UNUSUAL_EVENTS) != 0) {
            reader.unusual = true; // before the bump that a reader's ticket check reads
        }
        if ((events & READ_EVENTS) != 0) {
            reader.signal(pollers.spin);
        }
        if ((events & WRITE_EVENTS) != 0) {
            writer.signal(pollers.spin);
        }
    }

    /**
     * Waits until the socket may be ready for {@code direction}, the deadline passes, the gate
     * closes or the thread is interrupted.
     *
     * @param ticket {@link #ticket} read before the syscall that said {@code EAGAIN}
     * @param timeoutNanos {@link Operation#NO_TIMEOUT} or the time left (0: already expired)
     * @return {@link #READY} or an {@link Operation} outcome: {@code TIMED_OUT}, {@code INTERRUPTED}, {@code CLOSED}
     * @throws IOException the engine's poller failed, or {@code poll} failed
     */
    int await(int direction, int ticket, long timeoutNanos, IoGate gate) throws IOException {
        Waiter w = direction == READ ? reader : writer;
        Thread self = Thread.currentThread();
        return self.isVirtual()
                ? parkVirtual(w, direction, ticket, timeoutNanos, gate, self)
                : pollPlatform(w, direction, timeoutNanos, gate, self);
    }

    private int parkVirtual(Waiter w, int direction, int ticket, long timeoutNanos, IoGate gate, Thread self)
            throws IOException {
        register(direction == READ ? READ_INTEREST : READ_INTEREST | EPOLLOUT);
        long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
        pollers.parking(key, w.errno);
        w.thread = self;
        try {
            for (;;) {
                if (w.seq != ticket) {
                    return READY;
                }
                if (gate.isClosing()) {
                    return Operation.CLOSED;
                }
                if (self.isInterrupted()) {
                    return Operation.INTERRUPTED;
                }
                pollers.checkAlive();
                if (timeoutNanos >= 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return Operation.TIMED_OUT;
                    }
                    LockSupport.parkNanos(this, left);
                } else {
                    LockSupport.park(this);
                }
                w.ran(pollers.spin);
            }
        } finally {
            w.thread = null;
            w.ran(pollers.spin);
            pollers.doneParking(key);
        }
    }

    /** Registers the fd with its sub-poller for (at least) {@code events}; at most twice per fd. */
    private void register(int events) throws IOException {
        int want = events | EPOLLET;
        if ((registered & want) == want) {
            return;
        }
        lock.lock();
        try {
            int had = registered;
            int mask = had | want;
            if (mask == had) {
                return;
            }
            epoll_event.events(ctlEvent, mask);
            ctlEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, epoll_event.data$offset(), key);
            pollers.control(ctlErrno, had == 0 ? EpollPollers.ADD : EpollPollers.MOD, fd, key, ctlEvent);
            registered = mask;
        } finally {
            lock.unlock();
        }
    }

    private int pollPlatform(Waiter w, int direction, long timeoutNanos, IoGate gate, Thread self) throws IOException {
        MemorySegment fds = platformPollSet(w, direction);
        if (fds == null) {
            return Operation.CLOSED;
        }
        long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
        for (;;) {
            if (gate.isClosing()) {
                return Operation.CLOSED;
            }
            if (self.isInterrupted()) {
                return Operation.INTERRUPTED;
            }
            int millis = PLATFORM_SLICE_MILLIS;
            if (timeoutNanos >= 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Operation.TIMED_OUT;
                }
                millis = (int) Math.min(millis, (left + 999_999) / 1_000_000);
            }
            pollfd.revents(fds, (short) 0);
            int r = LibC.poll(w.errno, fds, 2, millis);
            if (r < 0) {
                int e = LibC.errno(w.errno);
                if (e != Errnos.EINTR) {
                    throw Errnos.exception("poll", e);
                }
            } else if (r > 0 && pollfd.revents(fds) != 0) {
                return READY;
            }
        }
    }

    /** The poll set of a platform thread waiting in {@code direction}; {@code null} if closing. */
    private MemorySegment platformPollSet(Waiter w, int direction) throws IOException {
        if (w.pollFds != null) {
            return w.pollFds;
        }
        lock.lock();
        try {
            if (closing) {
                return null;
            }
            if (wakeFd < 0) {
                int efd = LibC.eventfd(ctlErrno, 0, EFD_CLOEXEC_NONBLOCK);
                if (efd < 0) {
                    throw Errnos.exception("eventfd", LibC.errno(ctlErrno), "too many open files? raise ulimit -n");
                }
                wakeFd = efd;
            }
            long size = pollfd.layout().byteSize();
            MemorySegment fds = arena.allocate(size * 2, pollfd.layout().byteAlignment());
            pollfd.fd(fds, fd);
            pollfd.events(fds, direction == READ ? POLLIN : POLLOUT);
            MemorySegment second = fds.asSlice(size);
            pollfd.fd(second, wakeFd);
            pollfd.events(second, POLLIN);
            w.pollFds = fds; // only this direction's (single) waiter reads it
            return fds;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every waiter so that it sees its gate closing (virtual: unpark; platform: the eventfd). */
    void wakeAll() {
        lock.lock();
        try {
            closing = true;
            if (wakeFd >= 0) {
                EpollPollers.signalEventFd(wakeFd);
            }
        } finally {
            lock.unlock();
        }
        wake(reader);
        wake(writer);
    }

    /** Unparks the waiting threads (after the engine's poller failed); the socket stays usable otherwise. */
    void wakeVirtual() {
        wake(reader);
        wake(writer);
    }

    private static void wake(Waiter w) {
        Thread t = w.thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Forgets this fd: no poller finds it any more, the wake-up eventfd is closed. Called once the
     * gate is idle and before the socket is closed.
     */
    void release() {
        pollers.table.remove(key);
        reader.ran(pollers.spin);
        writer.ran(pollers.spin);
        lock.lock();
        try {
            closing = true;
            if (wakeFd >= 0) {
                UnixSockets.closeQuietly(ctlErrno, wakeFd);
                wakeFd = -1;
            }
        } finally {
            lock.unlock();
        }
    }
}

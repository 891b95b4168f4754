package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.epoll_event;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.LockSupport;

/**
 * The epoll engine's pollers, shaped like the JDK's own virtual-thread poller
 * ({@code sun.nio.ch.Poller} in its virtual-thread mode): the sockets are spread over a few
 * <em>sub-pollers</em>, each an epoll set served by a <em>virtual</em> thread, so the work of
 * turning readiness into unparks runs on the carriers, between the virtual threads it wakes, and
 * an unpark from there is a push onto the carrier's own queue. A sub-poller never blocks: it calls
 * {@code epoll_wait} with a zero timeout, dispatches what it got, yields while there is work, and
 * when a call finds nothing it arms its epoll fd (one-shot) in the <em>master</em> epoll set and
 * parks. The master is the one platform thread that blocks in {@code epoll_wait} (DESIGN rule 8:
 * no blocking downcall on a virtual thread); it only unparks sub-pollers whose set became ready.
 *
 * <p>If a poller thread dies, the engine fails: every waiter wakes and it and every later wait
 * throws an {@code IOException} naming the cause.
 */
final class EpollPollers {
    static final int ADD = Linux.EPOLL_CTL_ADD();
    static final int MOD = Linux.EPOLL_CTL_MOD();
    private static final int EPOLLIN = Linux.EPOLLIN();
    private static final int EPOLLONESHOT = Linux.EPOLLONESHOT();
    private static final int MAX_EVENTS = 256;
    private static final long EVENT_SIZE = epoll_event.layout().byteSize();
    private static final long DATA_OFFSET = epoll_event.data$offset();

    final ReadinessTable table = new ReadinessTable();
    final SpinPolicy spin;
    private final SubPoller[] subs;
    private final int masterFd;
    private final Thread master;
    private volatile Throwable failure;
    /** Set by {@link #injectFailure} (tests): the sub-pollers throw it from their loop. */
    private volatile Error poison;

    private EpollPollers(int count, String name, SpinPolicy spin) throws IOException {
        this.spin = spin;
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            masterFd = LibC.epollCreate1(errno, Linux.EPOLL_CLOEXEC());
            if (masterFd < 0) {
                throw Errnos.exception("epoll_create1", LibC.errno(errno));
            }
            subs = new SubPoller[count];
            MemorySegment event = temp.allocate(epoll_event.layout());
            for (int i = 0; i < count; i++) {
                subs[i] = new SubPoller(i);
                // Armed one-shot: the master reports the sub-poller's set once, then the
                // sub-poller re-arms it each time it goes to sleep.
                epoll_event.events(event, EPOLLIN | EPOLLONESHOT);
                event.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, i);
                if (LibC.epollCtl(errno, masterFd, ADD, subs[i].epfd, event) < 0) {
                    throw Errnos.exception("epoll_ctl(master, ADD)", LibC.errno(errno));
                }
            }
        }
        master = Thread.ofPlatform().daemon().name(name + "-master").unstarted(this::masterLoop);
        for (SubPoller s : subs) {
            s.thread = Thread.ofVirtual().name(name + "-" + s.index).unstarted(s);
        }
    }

    /** Creates and starts {@code count} sub-pollers and the master; their sockets spin by {@code spin}. */
    static EpollPollers start(int count, String name, SpinPolicy spin) throws IOException {
        EpollPollers p = new EpollPollers(count, name, spin);
        p.master.start();
        for (SubPoller s : p.subs) {
            s.thread.start();
        }
        return p;
    }

    /** Registers or modifies {@code fd} in the epoll set of the sub-poller chosen by {@code key}. */
    void control(MemorySegment errno, int op, int fd, long key, MemorySegment event) throws IOException {
        checkAlive();
        SubPoller s = subs[(int) (key & 0x7fffffff) % subs.length];
        if (LibC.epollCtl(errno, s.epfd, op, fd, event) < 0) {
            int e = LibC.errno(errno);
            throw Errnos.exception("epoll_ctl(" + (op == ADD ? "ADD" : "MOD") + ")", e,
                    e == Errnos.ENOMEM || e == Linux.ENOSPC() ? "raise /proc/sys/fs/epoll/max_user_watches" : null);
        }
    }

    /** @throws IOException if a poller died: the engine cannot wake anybody any more */
    void checkAlive() throws IOException {
        Throwable f = failure;
        if (f != null) {
            throw new IOException("the epoll engine's poller failed (" + f + "); waits can no longer be woken, "
                    + "restart the program or choose another engine with -Dpanapipe.engine", f);
        }
    }

    /**
     * Makes every sub-poller thread die with {@code error} at its next round, as a bug in dispatch
     * would: for tests of the failure path, which must then wake and fail every waiter.
     */
    void injectFailure(Error error) {
        poison = error;
        for (SubPoller s : subs) {
            LockSupport.unpark(s.thread);
        }
    }

    private void fail(Throwable t) {
        if (failure == null) {
            failure = t;
            System.getLogger(EpollPollers.class.getName()).log(System.Logger.Level.ERROR,
                    "panapipe epoll poller failed; every parked virtual thread and every later wait gets an IOException", t);
        }
        // Every parked virtual thread wakes and finds checkAlive() failing. Platform threads wait
        // in poll(2) on their own socket and need no poller: they carry on.
        table.forEach(FdReadiness::wakeVirtual);
    }

    static void signalEventFd(int fd) {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment one = temp.allocate(ValueLayout.JAVA_LONG, 1L);
            LibC.writeNoErrno(fd, one.address(), Long.BYTES);
        }
    }

    private void masterLoop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            MemorySegment events = arena.allocate(EVENT_SIZE * subs.length, 8);
            for (;;) {
                int n = LibC.epollWait(errno, masterFd, events, subs.length, -1);
                if (n < 0) {
                    int e = LibC.errno(errno);
                    if (e == Errnos.EINTR) {
                        continue;
                    }
                    throw Errnos.exception("epoll_wait(master)", e);
                }
                for (int i = 0; i < n; i++) {
                    long data = events.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EVENT_SIZE + DATA_OFFSET);
                    LockSupport.unpark(subs[(int) data].thread);
                }
            }
        } catch (Throwable t) {
            fail(t);
        }
    }

    /** One epoll set and the virtual thread that serves it. */
    private final class SubPoller implements Runnable {
        final int index;
        final int epfd;
        Thread thread;

        SubPoller(int index) throws IOException {
            this.index = index;
            try (Arena temp = Arena.ofConfined()) {
                MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
                epfd = LibC.epollCreate1(errno, Linux.EPOLL_CLOEXEC());
                if (epfd < 0) {
                    throw Errnos.exception("epoll_create1", LibC.errno(errno));
                }
            }
        }

        @Override
        public void run() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
                MemorySegment events = arena.allocate(EVENT_SIZE * MAX_EVENTS, 8);
                MemorySegment rearm = arena.allocate(epoll_event.layout());
                epoll_event.events(rearm, EPOLLIN | EPOLLONESHOT);
                rearm.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, index);
                for (;;) {
                    Error injected = poison;
                    if (injected != null) {
                        throw injected;
                    }
                    int n = LibC.epollWait(errno, epfd, events, MAX_EVENTS, 0); // never blocks
                    if (n < 0) {
                        int e = LibC.errno(errno);
                        if (e == Errnos.EINTR) {
                            continue;
                        }
                        throw Errnos.exception("epoll_wait", e);
                    }
                    for (int i = 0; i < n; i++) {
                        long at = i * EVENT_SIZE;
                        FdReadiness r = table.get(events.get(ValueLayout.JAVA_LONG_UNALIGNED, at + DATA_OFFSET));
                        if (r != null) {
                            r.signal(events.get(ValueLayout.JAVA_INT_UNALIGNED, at));
                        }
                    }
                    if (n == MAX_EVENTS) {
                        continue; // more may be queued
                    }
                    if (n > 0) {
                        Thread.yield(); // let the woken threads run, then look again
                        continue;
                    }
                    // Nothing ready: ask the master to wake us when the set becomes ready. If it
                    // already is, the re-arm reports it at once and the unpark comes before the park.
                    if (LibC.epollCtl(errno, masterFd, MOD, epfd, rearm) < 0) {
                        throw Errnos.exception("epoll_ctl(master, MOD)", LibC.errno(errno));
                    }
                    LockSupport.park(this);
                }
            } catch (Throwable t) {
                fail(t);
            }
        }
    }
}

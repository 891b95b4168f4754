package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.epoll_event;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>A sub-poller that finds nothing arms the master only if a virtual thread is parked (or about
 * to park) on one of its sockets; otherwise it parks <em>lazily</em>, unarmed, and the next
 * virtual thread to park on one of its sockets arms it ({@link #parking}). Sockets stay registered
 * edge-triggered while nobody waits on them, so without this every write by a peer that is being
 * answered without parking (two virtual threads spinning in a ping-pong) would wake the master and
 * then the sub-poller, two more threads on cores the spinners are using, for nothing. The count of
 * parked waiters and the sub-poller's state are read crosswise (Dekker): a waiter counts itself and
 * then looks at the state; a sub-poller publishes "lazy" and then looks at the count; so one of
 * them always sees the other and arms.
 *
 * <p>When a sub-poller's set becomes ready after a quiet spell (nothing for
 * {@value #QUIET_MILLIS} ms: an idle server whose client sends its next request), the master serves
 * the set itself instead of waking the sub-poller: one {@code epoll_wait}, the readers unparked
 * straight from the master, the master re-armed. The waiting reader then costs one thread
 * wake-up instead of two (the sub-poller's carrier, then the reader), which is what a request on an
 * idle connection waits for. A second wake within the quiet spell, or a full batch, goes to the
 * sub-poller as usual, so under load the dispatch stays on the carriers.
 *
 * <p>If a poller thread dies, the engine fails: every waiter wakes and it and every later wait
 * throws an {@code IOException} naming the cause.
 */
final class EpollPollers {
    static final int ADD = Linux.EPOLL_CTL_ADD();
    static final int MOD = Linux.EPOLL_CTL_MOD();
    private static final int EPOLLIN = Linux.EPOLLIN();
    private static final int EPOLLONESHOT = Linux.EPOLLONESHOT();
    /** The most events one {@code epoll_wait} of a sub-poller's set takes. */
    static final int MAX_EVENTS = 256;
    /** How long a sub-poller's set must have been quiet for the master to serve it itself. */
    static final int QUIET_MILLIS = 1;
    private static final long QUIET_NANOS = QUIET_MILLIS * 1_000_000L;
    private static final long EVENT_SIZE = epoll_event.layout().byteSize();
    private static final long DATA_OFFSET = epoll_event.data$offset();

    final ReadinessTable table = new ReadinessTable();
    final SpinPolicy spin;
    /** The most events one {@code epoll_wait} of a sub-poller's set takes ({@link #MAX_EVENTS}; tests use less). */
    private final int batch;
    private final SubPoller[] subs;
    private final int masterFd;
    private final Thread master;
    private volatile Throwable failure;
    /** How many times the master's {@code epoll_wait} returned sets (written by the master only; for tests). */
    private volatile long masterWakes;
    /** How many sets the master served itself after a quiet spell (written by the master only; for tests). */
    private volatile long servedByMaster;
    /** How long a set must have been quiet for the master to serve it itself ({@link #QUIET_MILLIS}; tests change it). */
    private volatile long quietNanos = QUIET_NANOS;
    /** Set by {@link #injectFailure} (tests): the sub-pollers throw it from their loop. */
    private volatile Error poison;

    private EpollPollers(int count, String name, SpinPolicy spin, int batch) throws IOException {
        this.spin = spin;
        this.batch = batch;
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
        spin.countParkedBy(this::parkedThreads);
        master = Thread.ofPlatform().daemon().name(name + "-master").unstarted(this::masterLoop);
        for (SubPoller s : subs) {
            s.thread = Thread.ofVirtual().name(name + "-" + s.index).unstarted(s);
        }
    }

    /** Creates and starts {@code count} sub-pollers and the master; their sockets spin by {@code spin}. */
    static EpollPollers start(int count, String name, SpinPolicy spin) throws IOException {
        return start(count, name, spin, MAX_EVENTS);
    }

    /** As {@link #start(int, String, SpinPolicy)}, taking at most {@code batch} events per {@code epoll_wait} (tests). */
    static EpollPollers start(int count, String name, SpinPolicy spin, int batch) throws IOException {
        EpollPollers p = new EpollPollers(count, name, spin, batch);
        p.master.start();
        for (SubPoller s : p.subs) {
            s.thread.start();
        }
        return p;
    }

    /** Registers or modifies {@code fd} in the epoll set of the sub-poller chosen by {@code key}. */
    void control(MemorySegment errno, int op, int fd, long key, MemorySegment event) throws IOException {
        checkAlive();
        SubPoller s = subOf(key);
        if (LibC.epollCtl(errno, s.epfd, op, fd, event) < 0) {
            int e = LibC.errno(errno);
            throw Errnos.exception("epoll_ctl(" + (op == ADD ? "ADD" : "MOD") + ")", e,
                    e == Errnos.ENOMEM || e == Linux.ENOSPC() ? "raise /proc/sys/fs/epoll/max_user_watches" : null);
        }
    }

    /**
     * A virtual thread is about to park on the socket of {@code key} (call {@link #doneParking}
     * after it stops waiting): from now until then, the socket's sub-poller keeps the master armed
     * whenever it sleeps, and if it sleeps lazily now, this arms it.
     *
     * @param errno the calling thread's errno capture
     * @throws IOException if arming the master fails
     */
    void parking(long key, MemorySegment errno) throws IOException {
        SubPoller s = subOf(key);
        s.parked.incrementAndGet();
        if (s.state == SubPoller.LAZY && SubPoller.STATE.compareAndSet(s, SubPoller.LAZY, SubPoller.ARMED)) {
            try {
                s.armMaster(errno);
            } catch (IOException e) {
                s.parked.decrementAndGet();
                throw e;
            }
        }
    }

    /** The virtual thread counted by {@link #parking} no longer waits. */
    void doneParking(long key) {
        subOf(key).parked.decrementAndGet();
    }

    /** How many times the master woke for ready sets so far (tests). */
    long masterWakes() {
        return masterWakes;
    }

    /** Sets how long a set must have been quiet for the master to serve it itself (tests). */
    void quietSpell(long nanos) {
        quietNanos = nanos;
    }

    /** How many times the master served a quiet sub-poller's set itself so far (tests). */
    long servedByMaster() {
        return servedByMaster;
    }

    /** Virtual threads counted by {@link #parking} now, over all sub-pollers. */
    private int parkedThreads() {
        int n = 0;
        for (SubPoller s : subs) {
            n += s.parked.get();
        }
        return n;
    }

    /** Virtual threads counted by {@link #parking} on the sub-poller of {@code key} now (tests). */
    int parkedOn(long key) {
        return subOf(key).parked.get();
    }

    private SubPoller subOf(long key) {
        return subs[(int) (key & 0x7fffffff) % subs.length];
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

    /** Hands each of the {@code n} events in {@code events} to its socket's readiness. */
    private void dispatch(MemorySegment events, int n) {
        for (int i = 0; i < n; i++) {
            long at = i * EVENT_SIZE;
            FdReadiness r = table.get(events.get(ValueLayout.JAVA_LONG_UNALIGNED, at + DATA_OFFSET));
            if (r != null) {
                r.signal(events.get(ValueLayout.JAVA_INT_UNALIGNED, at));
            }
        }
    }

    private void masterLoop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            MemorySegment events = arena.allocate(EVENT_SIZE * subs.length, 8);
            MemorySegment served = arena.allocate(EVENT_SIZE * batch, 8);
            for (;;) {
                int n = LibC.epollWait(errno, masterFd, events, subs.length, -1);
                if (n < 0) {
                    int e = LibC.errno(errno);
                    if (e == Errnos.EINTR) {
                        continue;
                    }
                    throw Errnos.exception("epoll_wait(master)", e);
                }
                masterWakes++; // the only writer
                for (int i = 0; i < n; i++) {
                    SubPoller s = subs[(int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EVENT_SIZE + DATA_OFFSET)];
                    if (!s.serveFromMaster(errno, served)) {
                        LockSupport.unpark(s.thread);
                    }
                }
            }
        } catch (Throwable t) {
            fail(t);
        }
    }

    /** One epoll set and the virtual thread that serves it. */
    private final class SubPoller implements Runnable {
        /** {@link #state}: looking at its set (or about to). */
        static final int RUNNING = 0;
        /** {@link #state}: asleep, the master armed to wake it when its set becomes ready. */
        static final int ARMED = 1;
        /** {@link #state}: asleep with the master unarmed, as no virtual thread was parked on its sockets. */
        static final int LAZY = 2;
        static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(SubPoller.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final int index;
        final int epfd;
        /** The master's event for this set (re-armed one-shot); read by every thread that arms it. */
        private final MemorySegment rearm;
        /** Virtual threads parked, or about to park, on this set's sockets. */
        final AtomicInteger parked = new AtomicInteger();
        volatile int state = RUNNING;
        /** {@link System#nanoTime} when this set last went quiet (its sub-poller fell asleep) or the master last served it. */
        private volatile long quietSince;
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
            rearm = Arena.ofAuto().allocate(epoll_event.layout()); // lives as long as this sub-poller
            epoll_event.events(rearm, EPOLLIN | EPOLLONESHOT);
            rearm.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, index);
        }

        /**
         * Going to sleep, or staying asleep: arms the master if a virtual thread waits on this set,
         * else leaves the sub-poller lazy for the next one to park ({@link #parking}; Dekker: the
         * state is published before the count is read).
         */
        void sleepArmedIfWaitedOn(MemorySegment errno) throws IOException {
            state = LAZY;
            if (parked.get() > 0 && STATE.compareAndSet(this, LAZY, ARMED)) {
                armMaster(errno);
            }
        }

        /**
         * Called by the master when this set became ready: if the sub-poller sleeps after a quiet
         * spell, serves the set from the master and leaves the sub-poller asleep. A spurious wake of
         * the sub-poller meanwhile is harmless: both may poll the set (each event goes to one of
         * them) and both re-arm the same way.
         *
         * @param events room for {@link #batch} events, the master's own
         * @return whether it served the set; {@code false}: wake the sub-poller
         */
        boolean serveFromMaster(MemorySegment errno, MemorySegment events) throws IOException {
            long now = System.nanoTime();
            if (state != ARMED || now - quietSince < quietNanos) {
                return false;
            }
            quietSince = now; // a second wake within the quiet spell goes to the sub-poller
            int n = LibC.epollWait(errno, epfd, events, batch, 0);
            if (n < 0) {
                return false; // EINTR, or a failure the sub-poller will report
            }
            servedByMaster++; // the only writer; before the readers run
            dispatch(events, n); // taken from the set: these edges are ours to deliver, whatever follows
            if (n == batch) {
                return false; // a flood: the rest is the sub-poller's job
            }
            sleepArmedIfWaitedOn(errno);
            return true;
        }

        /** Asks the master to wake this sub-poller when its set becomes ready (at once if it is). */
        void armMaster(MemorySegment errno) throws IOException {
            if (LibC.epollCtl(errno, masterFd, MOD, epfd, rearm) < 0) {
                throw Errnos.exception("epoll_ctl(master, MOD)", LibC.errno(errno));
            }
        }

        @Override
        public void run() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
                MemorySegment events = arena.allocate(EVENT_SIZE * batch, 8);
                for (;;) {
                    Error injected = poison;
                    if (injected != null) {
                        throw injected;
                    }
                    int n = LibC.epollWait(errno, epfd, events, batch, 0); // never blocks
                    if (n < 0) {
                        int e = LibC.errno(errno);
                        if (e == Errnos.EINTR) {
                            continue;
                        }
                        throw Errnos.exception("epoll_wait", e);
                    }
                    dispatch(events, n);
                    if (n == batch) {
                        continue; // more may be queued
                    }
                    if (n > 0) {
                        Thread.yield(); // let the woken threads run, then look again
                        continue;
                    }
                    // Nothing ready: sleep until the master sees the set ready. The master is armed
                    // now if a virtual thread waits on one of our sockets, else by the next one to
                    // park (see parking). If the set is ready already, arming reports it at once
                    // and the unpark comes before the park.
                    quietSince = System.nanoTime();
                    sleepArmedIfWaitedOn(errno);
                    LockSupport.park(this);
                    state = RUNNING;
                }
            } catch (Throwable t) {
                fail(t);
            }
        }
    }
}

package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.completion.OperationTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The one platform daemon thread that enters the kernel for the ring, and the ring's only issuer:
 * each round it submits every SQE other threads have published and waits,
 * {@code io_uring_enter(to_submit=pending, min_complete=1, GETEVENTS)}; then every CQE is matched
 * to its {@link Operation} by {@code user_data} through the {@link OperationTable} and completed,
 * which unparks the waiting thread. Because the poller submits every request, the kernel runs the
 * requests' completion work on the poller (with {@code DEFER_TASKRUN}, inside this wait): data
 * arriving costs two wake-ups, the poller's and the owner's. Nothing on this path allocates or
 * blocks other than in {@code io_uring_enter}: a stalled poller stalls every waiter, and only
 * poller threads, never virtual threads, may block in the kernel (DESIGN rules 3 and 8).
 *
 * <h2>Waking the poller</h2>
 * A thread that publishes an SQE while the poller waits must wake it: the poller keeps an
 * {@code IORING_OP_READ} of the ring's eventfd in flight, and the publisher writes the eventfd.
 * The handshake is Dekker's: the poller stores {@code sleeping = true} and only then reads the SQ
 * tail to decide what to submit; a publisher stores the tail and only then reads {@code sleeping}
 * (all four are volatile accesses). So either the poller sees the new SQE, or the publisher sees
 * it sleeping; the publisher that flips {@code sleeping} back to false writes the eventfd, once
 * per wait. While the poller is awake no eventfd write happens.
 *
 * <p>{@code user_data} values at or above {@link #RESERVED} are not operations: cancel requests
 * complete with {@link #CANCEL_TAG} (ignored: the cancelled operation reports its own completion),
 * {@link #WAKE_TAG} is the eventfd read (re-armed each time), and {@link #STOP_TAG} begins the
 * shutdown: the eventfd read is cancelled, and the loop ends once its completion has come.
 *
 * <h2>Failure</h2>
 * If the loop dies (an exception, an {@code io_uring_enter} error) the thread does not just end:
 * it logs the cause and runs {@link UringFailure#drain}, which fails every later call at once,
 * cancels and reaps what is in flight, and only then wakes every waiter with the failure.
 * {@link #injectFailure} makes the loop die, for tests.
 */
final class Poller implements Runnable, CompletionQueue.Handler, SubmissionQueue.Issuer, UringFailure.Enter {
    /** First {@code user_data} value that is not an operation id. */
    static final long RESERVED = 1L << 62;
    /** {@code user_data} of {@code IORING_OP_ASYNC_CANCEL} requests. */
    static final long CANCEL_TAG = RESERVED;
    /** {@code user_data} of the NOP that stops the poller. */
    static final long STOP_TAG = RESERVED + 1;
    /** {@code user_data} of the poller's read of the wake-up eventfd. */
    static final long WAKE_TAG = RESERVED + 2;

    private static final int GETEVENTS = Linux.IORING_ENTER_GETEVENTS();
    /**
     * After a round that completed something, how long the poller watches the SQ tail and the CQ
     * before it sleeps, in nanoseconds (system property {@code panapipe.uring.pollerSpinMicros}).
     * A woken owner usually answers with a new request within microseconds; catching it here
     * saves the eventfd wake-up. Only after work, so an idle poller never spins. Default 0 (off):
     * on a two-core machine it competes with the readers' own spin ({@link SpinPolicy})
     * for the cores; with that spin off it roughly halves a virtual-thread round trip.
     */
    static final long SPIN_NANOS = Math.max(0, Long.getLong("panapipe.uring.pollerSpinMicros", 0)) * 1_000;
    private static final VarHandle SLEEPING;
    private final SpinPolicy spin;

    static {
        try {
            SLEEPING = MethodHandles.lookup().findVarHandle(Poller.class, "sleeping", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Ring ring;
    private final SubmissionQueue sq;
    private final OperationTable table;
    private final UringFailure failure;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
    private final Thread thread;
    /** True while the poller is in (or about to enter) its wait; see the class comment. */
    private volatile boolean sleeping;
    private volatile boolean stopping;
    /** Set by {@link #injectFailure} (tests): the loop throws it at its next round. */
    private volatile Error poison;
    // Poller thread only:
    private boolean entered;
    private boolean stopSeen;
    private boolean wakeReadInFlight;
    private boolean wakeReadCancelled;

    Poller(Ring ring, OperationTable table, UringFailure failure, SpinPolicy spin, String name) {
        this.spin = spin;
        this.ring = ring;
        this.sq = ring.sq;
        this.table = table;
        this.failure = failure;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this);
        sq.issuer(this);
    }

    void start() {
        thread.start();
    }

    @Override
    public void run() {
        CompletionQueue cq = ring.cq;
        try {
            ring.enable(errno); // with SINGLE_ISSUER, this thread becomes the ring's only issuer
            armWakeRead();
            entered = true; // from the next io_uring_enter on, the kernel may hold requests
            boolean worked = false;
            for (;;) {
                Error injected = poison;
                if (injected != null) {
                    throw injected;
                }
                if (cq.drain(this) != 0) {
                    worked = true;
                    continue;
                }
                if (worked && SPIN_NANOS > 0) {
                    worked = false;
                    long until = System.nanoTime() + SPIN_NANOS;
                    while (sq.pending() == 0 && !cq.hasCompletions() && System.nanoTime() - until < 0) {
                        Thread.onSpinWait();
                    }
                }
                if (stopSeen) {
                    if (!wakeReadInFlight) {
                        break;
                    }
                    if (!wakeReadCancelled) {
                        wakeReadCancelled = true;
                        sq.cancel(WAKE_TAG, CANCEL_TAG); // its buffer lives until the ring closes; still, await it
                    }
                }
                sleeping = true;
                int pending = sq.pending(); // after the store above: a later SQE's publisher sees sleeping
                if (cq.hasCompletions()) {
                    sleeping = false;
                    continue;
                }
                int r = LibC.ioUringEnter(errno, ring.fd, pending, 1, GETEVENTS);
                sleeping = false;
                if (r < 0) {
                    int e = LibC.errno(errno);
                    if (e != Errnos.EINTR && e != Errnos.EAGAIN && e != Errnos.EBUSY) {
                        throw new IllegalStateException("io_uring_enter(GETEVENTS) failed: " + Errnos.describe(e));
                    }
                }
            }
        } catch (Throwable t) {
            sleeping = false;
            System.getLogger(IoUringEngine.class.getName()).log(System.Logger.Level.ERROR,
                    "panapipe io_uring poller failed; cancelling what is in flight, then failing every waiter", t);
            try {
                failure.drain(t, ring, this, this, entered);
            } catch (Throwable reapFailed) {
                failure.giveUp(reapFailed);
            }
        } finally {
            sleeping = false;
            arena.close();
        }
    }

    private void armWakeRead() {
        wakeReadInFlight = sq.read(ring.wakeFd, ring.wakeReadBuffer.address(), Long.BYTES, WAKE_TAG);
    }

    @Override
    public void onCompletion(long userData, int res, int flags) {
        if (userData >= RESERVED) {
            if (userData >= UringFailure.DRAIN_CANCEL) {
                failure.cancelAnswered(userData - UringFailure.DRAIN_CANCEL, res);
            } else if (userData == WAKE_TAG) {
                wakeReadInFlight = false;
                if (!stopSeen && !failure.isFailed()) {
                    armWakeRead(); // goes to the kernel with the next wait
                }
            } else if (userData == STOP_TAG) {
                stopSeen = true;
            }
            return; // CANCEL_TAG: the target's own CQE is what its waiter needs
        }
        Operation op = table.get(userData);
        if (op != null && !op.isDone()) { // done already: given up on after a failure (UringFailure)
            spin.woke(); // its owner calls spin.ran() once its await returns
            op.complete(res, flags);
        }
    }

    // ---- SubmissionQueue.Issuer ------------------------------------------------------------------

    /** After an SQE's tail store: if the poller waits, wake it (one eventfd write per wait). */
    @Override
    public void published() {
        if (sleeping && SLEEPING.compareAndSet(this, true, false)) {
            ring.wakePoller();
        }
    }

    @Override
    public void full() {
        if (Thread.currentThread() == thread) {
            // The poller itself (re-arming its eventfd read): submit without waiting.
            int r = LibC.ioUringEnter(errno, ring.fd, sq.pending(), 0, 0);
            if (r < 0) {
                int e = LibC.errno(errno);
                if (e != Errnos.EINTR && e != Errnos.EAGAIN && e != Errnos.EBUSY) {
                    throw new IllegalStateException("io_uring_enter(submit) failed: " + Errnos.describe(e));
                }
            }
            return;
        }
        published(); // wake it if it sleeps; an awake poller submits on its next round
        Thread.yield();
    }

    /**
     * After a {@link UringFailure} drain: one round that submits {@code toSubmit} SQEs and runs
     * the ring's completion work without waiting ({@code min_complete=0}). Poller thread only.
     *
     * @throws IllegalStateException {@code io_uring_enter} failed with other than a passing error
     */
    @Override
    public void submitAndReap(int toSubmit) {
        int r = LibC.ioUringEnter(errno, ring.fd, toSubmit, 0, GETEVENTS);
        if (r < 0) {
            int e = LibC.errno(errno);
            if (e != Errnos.EINTR && e != Errnos.EAGAIN && e != Errnos.EBUSY) {
                throw new IllegalStateException("io_uring_enter(GETEVENTS) failed while draining: " + Errnos.describe(e));
            }
        }
    }

    /**
     * Stops the thread and waits for it (tests; the engine's poller lives as long as the JVM).
     * After a failure the thread ends once its drain is done.
     */
    void stop() throws InterruptedException {
        if (!stopping) {
            stopping = true;
            ring.sq.nop(STOP_TAG); // refused after a failure: the drain ends the thread
        }
        thread.join();
    }

    /**
     * Makes the poller's loop die with {@code error} at its next round, as a bug or an
     * {@code io_uring_enter} error would: for tests of the failure path ({@link UringFailure}).
     */
    void injectFailure(Error error) {
        poison = error;
        ring.wakePoller();
    }

    /** Why the poller failed, or {@code null}. */
    Throwable failure() {
        return failure.cause();
    }

    Thread thread() {
        return thread;
    }
}

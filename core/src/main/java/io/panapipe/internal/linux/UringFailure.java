package io.panapipe.internal.linux;

import io.panapipe.internal.CallerMemory;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.completion.OperationTable;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A failed io_uring {@link Poller}, loud and safe: when the poller's loop dies (an exception, an
 * {@code io_uring_enter} error) nobody would ever reap another completion, so every waiter would
 * stay parked for good. Instead, on the dying poller thread (with {@code SINGLE_ISSUER} and
 * {@code DEFER_TASKRUN} only that thread may submit or reap):
 * <ol>
 *   <li>The engine is marked failed and the {@link SubmissionQueue#shut submission queue shut}:
 *       every later read, write, accept, bind or connect of the engine throws
 *       {@code IOException("the io_uring engine's poller failed (…)")} with the cause, at once.</li>
 *   <li>Every request in flight is cancelled ({@code IORING_OP_ASYNC_CANCEL} per
 *       {@code user_data}, which every kernel this engine runs on has) and completions are reaped,
 *       without blocking in the kernel ({@code io_uring_enter(GETEVENTS, min_complete=0)} and a
 *       park in between), until the kernel has given back every request: its completion came, or
 *       its cancel answered {@code ENOENT} (the kernel holds no such request). A request whose
 *       completion came ends as it would have: data is delivered, errors reported; a cancelled
 *       one makes its waiter throw the failure. Only then is every remaining waiter woken with
 *       that exception: the kernel no longer holds any memory, so they may free theirs.</li>
 *   <li>If the kernel has not given everything back within {@link #DRAIN_LIMIT_NANOS} (it
 *       practically always does within microseconds), what a still-held request points at
 *       decides. If the owner could not free it by returning — no buffer (an accept), the pipe's
 *       own staging buffer, global memory — the waiter is woken with the failure and the request
 *       <em>abandoned</em>: its operation slot and the pipe's staging buffers are deliberately
 *       leaked when the pipe closes ({@link #isAbandoned}), so the kernel can never write to
 *       freed memory. If the buffer is the caller's memory confined to the waiting thread
 *       (DESIGN rule 12: only that thread could free it, and would the moment it returned), the
 *       waiter stays parked, and a close of its pipe waits with it. Both are logged at
 *       {@code ERROR}. Reaping goes on (once a second at most) and releases such a waiter when
 *       its completion comes; if {@code io_uring_enter} itself fails, it stays parked for good.</li>
 * </ol>
 * Why this is safe: a waiter returns only once the kernel no longer holds its request, or when
 * nothing its owner can do frees what the kernel holds. The price of step 3, which should never
 * be paid: leaked staging buffers and slots; global memory that the kernel may still read or
 * write after its owner got the exception (its content is then undefined, never freed); a late
 * accepted socket nobody sees. Closing a pipe after the failure still closes its socket and frees
 * its own memory exactly once, except what step 3 leaked.
 *
 * <p>{@link Poller#injectFailure}, {@link #limitNanos} and {@link #cancelInFlight} are test hooks.
 */
final class UringFailure {
    /** {@code user_data} of the drain's cancel of the operation with id {@code i}: {@code DRAIN_CANCEL + i}. */
    static final long DRAIN_CANCEL = Poller.RESERVED + (1L << 32);
    /** How long the drain waits for the kernel before it decides per held request (point 3). */
    static final long DRAIN_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private static final System.Logger LOG = System.getLogger(IoUringEngine.class.getName());
    private static final int NO_ANSWER = 1; // no cancel result is positive
    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long MAX_LATE_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final OperationTable table;
    private final SpinPolicy spin;
    private volatile Throwable cause;
    /** Ids of requests given up on while the kernel may still hold them (point 3). */
    private final Set<Integer> abandoned = ConcurrentHashMap.newKeySet();
    /** Tests only: the drain's time limit, and whether it cancels (off: the kernel "keeps" every request). */
    volatile long limitNanos = DRAIN_LIMIT_NANOS;
    volatile boolean cancelInFlight = true;
    // Poller thread only, during the drain: whether the kernel ever saw a request, and each
    // operation's cancel result, by id.
    private boolean kernelMayHold;
    private int[] cancelAnswers = new int[0];

    UringFailure(OperationTable table, SpinPolicy spin) {
        this.table = table;
        this.spin = spin;
    }

    /** Whether the poller failed. */
    boolean isFailed() {
        return cause != null;
    }

    /** Why the poller failed, or {@code null}. */
    Throwable cause() {
        return cause;
    }

    /** @throws IOException if the poller failed: this engine serves no more I/O */
    void checkAlive() throws IOException {
        if (cause != null) {
            throw exception();
        }
    }

    /** The exception every waiter and every later call gets; a new one each time, for its stack trace. */
    IOException exception() {
        Throwable c = cause;
        return new IOException("the io_uring engine's poller failed (" + c + "); this engine serves no more I/O, "
                + "restart the program or choose another engine with -Dpanapipe.engine", c);
    }

    /** Whether {@code op}'s request was given up on while the kernel may still hold its memory. */
    boolean isAbandoned(Operation op) {
        return !abandoned.isEmpty() && abandoned.contains(op.id());
    }

    /** The answer to the drain's cancel of operation {@code id} (poller thread). */
    void cancelAnswered(long id, int res) {
        if (id < cancelAnswers.length) {
            cancelAnswers[(int) id] = res;
        }
    }

    /**
     * Runs the failure on the dying poller thread: steps 1–3 of the class comment. Returns once
     * no request the kernel may hold has a waiter left, or throws if the kernel cannot be reached
     * any more (then {@link #giveUp}).
     *
     * @param entered whether the poller ever entered the ring: if not, the kernel holds nothing
     */
    void drain(Throwable why, Ring ring, CompletionQueue.Handler handler, Enter enter, boolean entered) {
        cause = why; // first: from now on every call fails at once
        ring.sq.shut(); // then: no request is published any more but the cancels below
        if (entered) {
            kernelMayHold = true;
            cancelAnswers = new int[table.idLimit()];
            Arrays.fill(cancelAnswers, NO_ANSWER);
            if (cancelInFlight) {
                table.forEach(op -> {
                    if (!op.isDone()) {
                        ring.sq.cancelAfterShut(op.id(), DRAIN_CANCEL + op.id());
                    }
                });
            }
            ring.sq.cancelAfterShut(Poller.WAKE_TAG, Poller.CANCEL_TAG);
            reap(ring, handler, enter);
            // Once more: a request whose cancel answered ENOENT had completed, and its
            // completion, posted before that answer, is delivered rather than failed.
            enter.submitAndReap(ring.sq.pending());
            ring.cq.drain(handler);
        }
        failRemaining();
    }

    /** Submits the cancels and reaps until nothing held has a waiter; decides per request once late. */
    private void reap(Ring ring, CompletionQueue.Handler handler, Enter enter) {
        long start = System.nanoTime();
        long pause = 10_000;
        boolean late = false;
        for (;;) {
            enter.submitAndReap(ring.sq.pending());
            ring.cq.drain(handler);
            if (held() == 0) {
                return;
            }
            if (!late && System.nanoTime() - start > limitNanos) {
                late = true;
                abandonWhatIsSafe("did not give back " + held() + " request(s) within "
                        + TimeUnit.NANOSECONDS.toMillis(limitNanos) + " ms; reaping goes on");
            }
            LockSupport.parkNanos(this, pause);
            pause = Math.min(pause * 2, late ? MAX_LATE_PAUSE_NANOS : MAX_PAUSE_NANOS);
        }
    }

    /**
     * The kernel can no longer be reached (the drain threw): every request not known to be given
     * back is treated as held for good; step 3 decides which waiters may wake.
     */
    void giveUp(Throwable why) {
        if (cause == null) {
            cause = why;
        }
        LOG.log(System.Logger.Level.ERROR, "panapipe io_uring: reaping after the poller's failure failed", why);
        abandonWhatIsSafe("can no longer be reached; what it holds stays held");
        failRemaining();
    }

    /** Requests the kernel may still hold that have a waiter: held and not abandoned. */
    private int held() {
        int[] n = {0};
        table.forEach(op -> {
            if (isHeld(op) && !abandoned.contains(op.id())) {
                n[0]++;
            }
        });
        return n[0];
    }

    /**
     * Whether the kernel may hold {@code op}'s request: not completed, and its cancel did not
     * answer {@code ENOENT}, which io_uring_prep_cancel(3) gives when no such request is in
     * flight (it completed before, or never reached the kernel).
     */
    private boolean isHeld(Operation op) {
        if (op.isDone() || !kernelMayHold) {
            return false;
        }
        int id = op.id();
        // An id allocated after the shut was never submitted: its owner completes it when refused.
        return id >= cancelAnswers.length || cancelAnswers[id] != -Errnos.ENOENT;
    }

    /** Step 3: wakes the waiters of held requests whose memory their owner cannot free; logs what stays. */
    private void abandonWhatIsSafe(String what) {
        int[] counts = {0, 0};
        table.forEach(op -> {
            if (!isHeld(op) || abandoned.contains(op.id())) {
                return;
            }
            MemorySegment lent = op.lent();
            if (lent != null && CallerMemory.isConfined(lent)) {
                counts[1]++; // its thread stays parked: returning would let it free memory the kernel may write
                return;
            }
            // No buffer, the pipe's own staging buffer or global memory: nobody frees it while the
            // kernel may hold it, because the pipe's close leaks the slot and the staging buffers.
            abandoned.add(op.id());
            counts[0]++;
            wake(op);
        });
        if (counts[0] + counts[1] == 0) {
            return;
        }
        LOG.log(System.Logger.Level.ERROR, "panapipe io_uring: after the poller's failure the kernel " + what + ". "
                + counts[0] + " waiter(s) failed, their buffers (no buffer, the pipe's own staging buffer, "
                + "or global memory) deliberately leaked; " + counts[1] + " waiter(s) stay blocked, because their "
                + "buffers are confined to them and would be freed under the kernel if they returned");
    }

    /** Wakes, with the failure, every waiter whose request the kernel does not hold (or never saw). */
    private void failRemaining() {
        table.forEach(op -> {
            if (!op.isDone() && (!isHeld(op) || abandoned.contains(op.id()))) {
                wake(op);
            }
        });
    }

    /** Completes {@code op} as cancelled: its owner sees the cancel, finds the engine failed and throws {@link #exception()}. */
    private void wake(Operation op) {
        spin.woke(); // its owner calls spin.ran() once its await returns, as after a completion
        op.complete(-Errnos.ECANCELED, 0);
    }

    /** One non-blocking round of the poller: submit what is pending, run completion work. */
    @FunctionalInterface
    interface Enter {
        void submitAndReap(int toSubmit);
    }
}

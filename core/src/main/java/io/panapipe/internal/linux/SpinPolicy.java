package io.panapipe.internal.linux;

import io.panapipe.internal.completion.IoGate;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * When a reader that found no data, or a writer that found no room, may retry its non-blocking
 * {@code recv}/{@code send} for a few microseconds before it parks (spin only where it pays).
 *
 * <p>A park costs wake-ups (a poller's, then the waiter's) that dominate a request/response round
 * trip between two idle cores; a short spin catches a reply that comes back within it, or, for a
 * writer streaming into a full socket, the room the reader on the other core is making. But a
 * spinning thread holds a core, and a spinning virtual thread holds the carrier that the very
 * thread it waits for may need. So a read spins only if all of these hold:
 * <ul>
 *   <li>spinning is on ({@code panapipe.spinMicros} &gt; 0; default {@value #DEFAULT_SPIN_MICROS} µs);</li>
 *   <li>every thread this engine woke that has not run yet, and this spinner, can each still have
 *       a core (a carrier, for virtual threads) of their own: woken-not-run + spinning &lt; cores.
 *       Under load there are always more woken threads than cores, so spinning switches itself
 *       off; in a ping-pong between two threads on two cores, both may spin, as busy-polling C
 *       does;</li>
 *   <li>spinning has recently paid off in this direction of this connection: each keeps a small
 *       credit, raised when the syscall succeeded during a spin and cut when a spin ran out; at
 *       zero it stops spinning and only re-probes every {@value #PROBE_INTERVAL}th wait (every
 *       {@value #FEW_WAITERS_PROBE_INTERVAL}th while no more virtual threads are parked in the epoll
 *       engine than there are cores).</li>
 * </ul>
 * A spin also ends early, without losing credit, as soon as woken-not-run + spinning exceeds the
 * cores: a thread this engine woke is waiting for the carrier the spin holds.
 * Each direction of a connection keeps its state in one {@link Spinner}, so nothing is allocated
 * per call.
 */
final class SpinPolicy {
    static final int DEFAULT_SPIN_MICROS = 20;
    /** How long one spin may last as configured, in nanoseconds; 0 = never spin. */
    static final long SPIN_NANOS = spinNanos();
    private static final int MAX_CREDIT = 16;
    private static final int PAID = 1;
    private static final int WASTED = 4;
    private static final int PROBE_INTERVAL = 64;
    /**
     * The re-probe interval while no more threads are parked in the engine than there are cores
     * (a ping-pong pair, say): both ends of a pair that fell back to parking (a hiccup cost each a
     * few wasted spins) must spin at the same time for either spin to pay again, which at one probe
     * in {@value #PROBE_INTERVAL} takes thousands of round trips; at one in 8, a few dozen.
     */
    private static final int FEW_WAITERS_PROBE_INTERVAL = 8;

    private final AtomicInteger spinners = new AtomicInteger();
    /** How many virtual threads are parked in the engine now; {@code null} where the engine does not say. */
    private volatile IntSupplier parkedThreads;
    private final AtomicInteger wokenNotRun = new AtomicInteger();
    private final int cores = carriers();
    private final long spinNanos;

    /** The policy as configured ({@code panapipe.spinMicros}). */
    SpinPolicy() {
        this(SPIN_NANOS);
    }

    /** @param spinNanos how long one spin may last; 0: never spin (a test that must see every wait) */
    SpinPolicy(long spinNanos) {
        this.spinNanos = spinNanos;
    }

    /** The virtual-thread scheduler's parallelism (the JDK's default: the number of cores). */
    private static int carriers() {
        int cores = Runtime.getRuntime().availableProcessors();
        try {
            return Math.max(1, Integer.getInteger("jdk.virtualThreadScheduler.parallelism", cores));
        } catch (SecurityException e) {
            return cores;
        }
    }

    private static long spinNanos() {
        // panapipe.uring.spinMicros is the name of the former fixed io_uring spin; still honoured.
        String v = System.getProperty("panapipe.spinMicros", System.getProperty("panapipe.uring.spinMicros"));
        long micros = DEFAULT_SPIN_MICROS;
        if (v != null) {
            try {
                micros = Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("panapipe.spinMicros must be a whole number of microseconds, was " + v);
            }
        }
        return Math.max(0, micros) * 1_000;
    }

    /** Lets the policy probe more often while few threads wait ({@link #FEW_WAITERS_PROBE_INTERVAL}). */
    void countParkedBy(IntSupplier parked) {
        this.parkedThreads = parked;
    }

    /**
     * Whether a connection without credit re-probes at this wait: every {@value #PROBE_INTERVAL}th,
     * or every {@value #FEW_WAITERS_PROBE_INTERVAL}th while few threads are parked. The parked count
     * is asked for only at those eighth waits (the 64th are among them), not at every wait of a
     * loaded server.
     */
    private boolean probes(int waits) {
        if (waits % FEW_WAITERS_PROBE_INTERVAL != 0) {
            return false;
        }
        IntSupplier parked = parkedThreads;
        return waits % PROBE_INTERVAL == 0 || (parked != null && parked.getAsInt() <= cores);
    }

    /** The cores (carriers) that spinners and woken threads share. */
    int cores() {
        return cores;
    }

    /** The credit a new connection starts with: enough to find out whether spinning pays. */
    static int initialCredit() {
        return MAX_CREDIT / 2;
    }

    /** The spin state of one direction (reads or writes) of a new connection. */
    Spinner spinner(IoGate gate) {
        return new Spinner(this, gate);
    }

    /**
     * Asks to start a spin. On {@code true} the caller spins until the spin time passes or data
     * comes, then calls {@link #release}; credit bookkeeping is up to the caller through
     * {@link #paid}/{@link #wasted}.
     *
     * @param credit the connection's credit; {@code waits} its count of parks, for re-probing
     */
    boolean tryStart(int credit, int waits) {
        if (spinNanos == 0 || (credit <= 0 && !probes(waits))) {
            return false;
        }
        for (;;) {
            int n = spinners.get();
            if (wokenNotRun.get() + n >= cores) {
                return false;
            }
            if (spinners.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Whether the spinners and the woken threads that have not run yet are more than the cores. */
    boolean crowded() {
        return wokenNotRun.get() + spinners.get() > cores;
    }

    /** Ends a spin started with {@link #tryStart}. */
    void release() {
        spinners.decrementAndGet();
    }

    /** The new credit after the syscall succeeded during a spin. */
    static int paid(int credit) {
        return Math.min(MAX_CREDIT, Math.max(credit, 0) + PAID);
    }

    /** The new credit after a spin ran out. */
    static int wasted(int credit) {
        return Math.max(0, credit - WASTED);
    }

    /**
     * The spinning of one direction of one connection: its credit and the state of the current
     * call. Used under the pipe's read (or write) lock only. A call invokes {@link #retry} on each
     * {@code EAGAIN} (true: try the syscall again), {@link #succeeded} when the syscall moved data
     * (or reported end of stream), {@link #parking} before it waits, and {@link #endCall} in a
     * {@code finally}.
     */
    static final class Spinner {
        private final SpinPolicy policy;
        private final IoGate gate;
        private int credit = initialCredit();
        private int waits;
        private long spinUntil; // 0: not spinning (yet) in this call; -1: spun already

        Spinner(SpinPolicy policy, IoGate gate) {
            this.policy = policy;
            this.gate = gate;
        }

        /** After {@code EAGAIN}: whether to retry the non-blocking syscall (spinning) instead of parking. */
        boolean retry() {
            if (spinUntil == 0 && policy.tryStart(credit, waits)) {
                spinUntil = System.nanoTime() + policy.spinNanos;
            }
            if (spinUntil <= 0) {
                return false;
            }
            if (policy.crowded()) {
                // A thread this engine woke needs the core (carrier) this spin holds: give it up
                // now. Not the spin's fault, so no credit is lost.
                policy.release();
                spinUntil = -1;
                return false;
            }
            if (System.nanoTime() - spinUntil < 0 && !gate.isClosing() && !Thread.currentThread().isInterrupted()) {
                Thread.onSpinWait();
                return true;
            }
            credit = wasted(credit);
            policy.release();
            spinUntil = -1;
            return false;
        }

        /** The syscall moved data (or reported end of stream). */
        void succeeded() {
            if (spinUntil > 0) {
                credit = paid(credit);
            }
        }

        /** The call is about to wait (counts waits, for re-probing). */
        void parking() {
            waits++;
        }

        /** Ends the call: gives back a spin still held. */
        void endCall() {
            if (spinUntil > 0) {
                policy.release();
            }
            spinUntil = 0;
        }
    }

    /** A poller is about to unpark a waiter (which will call {@link #ran} once it runs). */
    void woke() {
        wokenNotRun.incrementAndGet();
    }

    /** A waiter counted by {@link #woke} runs again. */
    void ran() {
        wokenNotRun.decrementAndGet();
    }
}

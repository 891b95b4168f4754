package io.panapipe.internal;

import io.panapipe.internal.completion.Operation;

import java.time.Duration;
import java.util.Objects;

/** Checks caller-supplied durations once, at the API boundary. */
public final class Timeouts {
    /** Longest accepted timeout: 100 years, so that deadlines never overflow. */
    public static final Duration MAX = Duration.ofDays(365L * 100);

    private Timeouts() {
    }

    /**
     * Checks a caller's timeout and converts it.
     *
     * @param timeout the caller's duration
     * @param what the parameter's name, for the exception messages
     * @return the timeout in nanoseconds
     * @throws NullPointerException if {@code timeout} is {@code null}
     * @throws IllegalArgumentException if negative or longer than {@link #MAX}
     */
    public static long toNanos(Duration timeout, String what) {
        Objects.requireNonNull(timeout, what);
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative, was " + timeout);
        }
        if (timeout.compareTo(MAX) > 0) {
            throw new IllegalArgumentException(what + " must be at most " + MAX.toDays() + " days, was " + timeout);
        }
        return timeout.toNanos();
    }

    /**
     * Nanoseconds left until {@code deadline}, or {@link Operation#NO_TIMEOUT} when there is none.
     *
     * @param deadline a {@link System#nanoTime()} value
     * @param timed whether there is a deadline at all
     * @return the nanoseconds left (0 once passed), or {@link Operation#NO_TIMEOUT} if not timed
     */
    public static long remaining(long deadline, boolean timed) {
        return timed ? Math.max(0, deadline - System.nanoTime()) : Operation.NO_TIMEOUT;
    }
}

package io.panapipe.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * DESIGN rule 12, the caller's memory is the caller's: which of a caller's segments may be used
 * at all, and which the kernel may keep after the downcall that handed it over returns.
 *
 * <p>Engines that move data in synchronous downcalls taking the segment as an argument (epoll,
 * nio) need only {@link #checkUsable}: the linker keeps the segment's scope alive for the call,
 * so a shared arena cannot be freed under it (its {@code close()} fails, as with the JDK's
 * channels). Completion engines (io_uring, IOCP) hand the kernel an address that outlives the
 * downcall; they may do so only for memory that {@link #mayLendToKernel} approves and must stage
 * everything else through memory of their own.
 */
public final class CallerMemory {
    /** A thread that never runs: only segments confined to some thread are inaccessible to it. */
    private static final Thread NOBODY = Thread.ofPlatform().unstarted(() -> { });

    private CallerMemory() {
    }

    /**
     * Fails as the JDK's channels do, before any system call, if the current thread may not use
     * {@code segment} now.
     *
     * @param segment the caller's segment
     * @throws IllegalStateException its arena is closed
     * @throws WrongThreadException it is confined to another thread
     */
    public static void checkUsable(MemorySegment segment) {
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("Already closed: the segment's arena was closed");
        }
        if (!segment.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException("Attempted access outside owning thread: the segment is confined to another thread");
        }
    }

    /**
     * Whether the kernel may keep using {@code segment} after the downcall returns, for as long as
     * the calling thread is blocked in the pipe call: true for global memory (never freed) and for
     * memory confined to the calling thread (only it could close the arena, and it waits for the
     * completion). False for heap memory, shared arenas (any thread may close them) and automatic
     * arenas (the GC may free them once the caller drops the segment). Call after
     * {@link #checkUsable}.
     *
     * @param segment the caller's segment
     * @return {@code true} if the kernel may hold it until the completion
     */
    public static boolean mayLendToKernel(MemorySegment segment) {
        if (!segment.isNative()) {
            return false;
        }
        return segment.scope().equals(Arena.global().scope()) || !segment.isAccessibleBy(NOBODY);
    }

    /**
     * Whether {@code segment} is confined to a thread: only that thread can free it, so a thread
     * lending it to the kernel must not return (and let its arena be closed) while the kernel may
     * still hold it. Global and shared memory is not confined.
     */
    public static boolean isConfined(MemorySegment segment) {
        return segment.isNative() && !segment.isAccessibleBy(NOBODY);
    }
}

package io.panapipe.internal.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * An arena over the C library's allocator, for the memory one connection owns (its control block,
 * its staging and read-ahead buffers). Closing it frees at once, whereas closing a shared arena
 * makes the JVM handshake with every thread (about 35 µs on the development VM, paid for each
 * arena on both ends of every connection: it dominated connect-talk-close loops).
 *
 * <p>Its segments have the global scope, so nothing checks that they are still alive: the owner
 * closes the arena only when no thread can touch them any more, after the connection's gate is
 * idle and the kernel holds none of them (the epoll engine moves data inside its calls), as it
 * already did with a shared arena. The memory is zeroed, as an arena's is.
 */
final class MallocArena implements Arena {
    private static final long MALLOC_ALIGNMENT = 16; // glibc on 64-bit: 2 * sizeof(size_t)

    private final List<MemorySegment> blocks = new ArrayList<>(4); // guarded by this
    private boolean closed;

    @Override
    public synchronized MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0 || byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("size " + byteSize + ", alignment " + byteAlignment);
        }
        if (closed) {
            throw new IllegalStateException("the connection's memory was already freed");
        }
        long size = Math.max(byteSize, 1);
        MemorySegment block;
        if (byteAlignment <= MALLOC_ALIGNMENT) {
            block = LibC.calloc(1, size);
        } else {
            long rounded = (size + byteAlignment - 1) & -byteAlignment; // aligned_alloc wants a multiple
            block = LibC.alignedAlloc(byteAlignment, rounded);
            if (!block.equals(MemorySegment.NULL)) {
                block.reinterpret(rounded).fill((byte) 0);
            }
        }
        if (block.equals(MemorySegment.NULL)) {
            throw new OutOfMemoryError("no native memory for " + size + " bytes of a connection's buffers");
        }
        MemorySegment segment = block.reinterpret(byteSize);
        blocks.add(segment);
        return segment;
    }

    @Override
    public MemorySegment.Scope scope() {
        return Arena.global().scope();
    }

    /** Frees every block. A second close throws, as an arena's does. */
    @Override
    public synchronized void close() {
        if (closed) {
            throw new IllegalStateException("already closed");
        }
        closed = true;
        for (MemorySegment b : blocks) {
            LibC.free(b);
        }
        blocks.clear();
    }
}

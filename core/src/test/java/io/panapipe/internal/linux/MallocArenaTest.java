package io.panapipe.internal.linux;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The connection memory arena over calloc/aligned_alloc/free. */
@EnabledOnOs(OS.LINUX)
class MallocArenaTest {

    @Test
    void blocksAreZeroedAlignedAndSizedAsAsked() {
        MallocArena arena = new MallocArena();
        try {
            for (long align : new long[] {1, 8, 16, 64, 4096}) {
                for (long size : new long[] {0, 1, 100, 512, 65_537}) {
                    MemorySegment s = arena.allocate(size, align);
                    assertEquals(size, s.byteSize());
                    assertEquals(0, s.address() % align, "aligned to " + align);
                    for (long i = 0; i < size; i++) {
                        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "zeroed at " + i);
                    }
                    s.fill((byte) 0x5a); // writable over its whole length
                }
            }
        } finally {
            arena.close();
        }
    }

    @Test
    void closeFreesOnceAndTheArenaRefusesAfterwards() {
        MallocArena arena = new MallocArena();
        arena.allocate(64, 8);
        arena.close();
        assertThrows(IllegalStateException.class, arena::close);
        assertThrows(IllegalStateException.class, () -> arena.allocate(8, 8));
        assertThrows(IllegalArgumentException.class, () -> new MallocArena().allocate(8, 3));
    }
}

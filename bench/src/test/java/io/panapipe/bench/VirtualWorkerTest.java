package io.panapipe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The benchmarks' reusable virtual thread: runs its body on a virtual thread, once per call. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class VirtualWorkerTest {

    @Test
    void runsTheBodyOncePerCallOnOneVirtualThread() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Thread[] seen = new Thread[2];
        try (Link.VirtualWorker w = new Link.VirtualWorker("t", () -> {
            seen[runs.getAndIncrement() % 2] = Thread.currentThread();
            assertTrue(Thread.currentThread().isVirtual());
        })) {
            for (int i = 0; i < 1000; i++) w.runOnce(Duration.ofSeconds(5));
        }
        assertEquals(1000, runs.get());
        assertSame(seen[0], seen[1], "the same thread every time");
    }

    @Test
    void rethrowsTheBodysFailureAndStaysUsable() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        try (Link.VirtualWorker w = new Link.VirtualWorker("t", () -> {
            if (runs.incrementAndGet() == 1) throw new IOException("boom");
        })) {
            assertEquals("boom", assertThrows(IOException.class, () -> w.runOnce(Duration.ofSeconds(5))).getMessage());
            w.runOnce(Duration.ofSeconds(5));
        }
        assertEquals(2, runs.get());
    }

    @Test
    void aStuckBodyIsATimeoutNotAHang() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (Link.VirtualWorker w = new Link.VirtualWorker("t", () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })) {
            assertThrows(TimeoutException.class, () -> w.runOnce(Duration.ofMillis(100)));
            release.countDown();
        }
    }
}

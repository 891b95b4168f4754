package io.panapipe.internal.linux;

import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.internal.Engines;
import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A dying io_uring poller ({@link UringFailure}): waiters wake with the failure once the kernel
 * has given their requests back, later calls fail at once, and memory the kernel may still hold
 * is never freed under it. Each test fails a private engine; the peers use a healthy one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IoUringPollerFailureTest {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String INJECTED = "injected for the test";

    @BeforeAll
    static void requireIoUring() {
        assumeTrue(IoUringEngine.unavailableReason() == null, () -> "io_uring unavailable: " + IoUringEngine.unavailableReason());
        String forced = System.getProperty(Engines.PROPERTY, "auto");
        assumeTrue(forced.startsWith("io"), "runs in the surefire execution that forces io_uring (the Linux default is epoll)");
    }

    /** A connection: its served end on the engine under test, its client end on a healthy engine. */
    private record Pair(UringTransport served, PipeChannel servedChannel, PipeChannel client) {
        void close() throws IOException {
            servedChannel.close();
            client.close();
        }
    }

    private static PipeName freshName() {
        return PipeName.of("uf-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
    }

    private static Pair pair(ServerEndpoint server, PipeName name, IoUringEngine peer) throws Exception {
        CompletableFuture<Transport> accepted = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                accepted.complete(Accepts.once(server, TimeUnit.SECONDS.toNanos(10)));
            } catch (Throwable t) {
                accepted.completeExceptionally(t);
            }
        });
        PipeChannel client = new PipeChannel(peer.connect(name, PipeOptions.defaults()), PipeMode.BYTE, 4096);
        UringTransport served = (UringTransport) accepted.get(10, TimeUnit.SECONDS);
        return new Pair(served, new PipeChannel(served, PipeMode.BYTE, 4096), client);
    }

    /** Runs {@code body} on {@code builder}'s thread and records what it returned or threw. */
    private static Thread start(Thread.Builder builder, AtomicReference<Object> outcome, Callable body) {
        return builder.start(() -> {
            try {
                outcome.set(body.call());
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
    }

    @FunctionalInterface
    private interface Callable {
        Object call() throws Exception;
    }

    /** Waits until {@code t} is parked (its request submitted). */
    private static void awaitParked(Thread t) throws InterruptedException {
        for (int i = 0; i < 500 && t.getState() != Thread.State.WAITING; i++) {
            Thread.sleep(10);
        }
        assertEquals(Thread.State.WAITING, t.getState(), "the thread parked");
    }

    private static void assertEngineFailure(Object outcome) {
        IOException e = assertInstanceOf(IOException.class, outcome, () -> "got " + outcome);
        assertTrue(e.getMessage().contains("the io_uring engine's poller failed"), e.getMessage());
        assertInstanceOf(Error.class, e.getCause());
        assertEquals(INJECTED, e.getCause().getMessage());
    }

    /** Asserts that {@code call} throws the engine's failure well within its own 30 s timeout. */
    private static void assertFailsAtOnce(Callable call) {
        long start = System.nanoTime();
        Object outcome;
        try {
            outcome = call.call();
        } catch (Throwable t) {
            outcome = t;
        }
        assertEngineFailure(outcome);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "at once");
    }

    private static void write(PipeChannel channel, String text) throws IOException {
        byte[] b = text.getBytes();
        channel.write(b, 0, b.length, TimeUnit.SECONDS.toNanos(10));
    }

    /** What is waiting in the socket, read with a plain non-blocking recv: proof that no request took it. */
    private static String unread(UringTransport t, int expected) throws InterruptedException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            MemorySegment buf = arena.allocate(64);
            long n = -1;
            for (int i = 0; i < 200 && n < expected; i++) {
                n = LibC.recv(errno, t.fd(), buf.address(), buf.byteSize(), Linux.MSG_DONTWAIT() | Linux.MSG_PEEK());
                if (n < expected) {
                    Thread.sleep(10);
                }
            }
            assertEquals(expected, n, "the bytes wait in the socket");
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void waitersOnVirtualAndPlatformThreadsGetTheFailureAndEveryLaterCallFailsAtOnce() throws Exception {
        IoUringEngine engine = IoUringEngine.createPrivate(64, 256);
        IoUringEngine peer = IoUringEngine.createPrivate(64, 256);
        PipeName name = freshName();
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        int fds = RingTest.openFds();
        try {
            Pair a = pair(server, name, peer);
            Pair b = pair(server, name, peer);
            // A virtual thread reads into a heap array (the pipe's staging buffer goes to the
            // kernel), a platform thread into memory confined to it (lent to the kernel as it is),
            // and a virtual thread waits in accept.
            AtomicReference<Object> virtualOutcome = new AtomicReference<>();
            AtomicReference<Object> platformOutcome = new AtomicReference<>();
            AtomicReference<Object> acceptOutcome = new AtomicReference<>();
            Thread virtualReader = start(Thread.ofVirtual(), virtualOutcome,
                    () -> a.servedChannel().read(new byte[16], 0, 16, -1));
            Thread platformReader = start(Thread.ofPlatform(), platformOutcome, () -> {
                try (Arena confined = Arena.ofConfined()) {
                    return b.servedChannel().read(confined.allocate(16), -1);
                }
            });
            Thread acceptor = start(Thread.ofVirtual(), acceptOutcome, () -> Accepts.once(server, -1));
            awaitParked(virtualReader);
            awaitParked(platformReader);
            awaitParked(acceptor);

            engine.poller.injectFailure(new Error(INJECTED));

            assertTrue(virtualReader.join(Duration.ofSeconds(5)), "the virtual reader woke");
            assertTrue(platformReader.join(Duration.ofSeconds(5)), "the platform reader woke");
            assertTrue(acceptor.join(Duration.ofSeconds(5)), "the acceptor woke");
            assertEngineFailure(virtualOutcome.get());
            assertEngineFailure(platformOutcome.get());
            assertEngineFailure(acceptOutcome.get());
            assertTrue(engine.poller.thread().join(Duration.ofSeconds(5)), "the poller ended after its drain");
            assertSame(engine.failure.cause(), engine.poller.failure());
            assertFalse(a.served().kernelMayHoldBuffers(), "every request was given back");
            assertFalse(b.served().kernelMayHoldBuffers());

            // Every later call fails at once: read, write, accept, connect, bind.
            MemorySegment heap = MemorySegment.ofArray(new byte[16]);
            assertFailsAtOnce(() -> a.servedChannel().read(heap, TimeUnit.SECONDS.toNanos(30)));
            assertFailsAtOnce(() -> { write(b.servedChannel(), "x"); return null; });
            assertFailsAtOnce(() -> server.accept(TimeUnit.SECONDS.toNanos(30)));
            assertFailsAtOnce(() -> engine.connect(name, PipeOptions.defaults()));
            assertFailsAtOnce(() -> engine.bind(freshName(), PipeOptions.defaults()));

            // The kernel holds no request any more: what the peer sends now stays in the socket.
            write(a.client(), "after the failure");
            write(b.client(), "still unread");
            assertEquals("after the failure", unread(a.served(), 17));
            assertEquals("still unread", unread(b.served(), 12));

            a.close();
            b.close();
            assertEquals(1, engine.table.inUse(), "only the server's slot is left: every other slot released");
            assertEquals(fds, RingTest.openFds(), "both ends' sockets closed");
        } finally {
            server.gate().startClose();
            server.release();
            engine.shutdown();
            peer.shutdown();
        }
        assertEquals(0, engine.table.inUse());
    }

    @Test
    void whatTheKernelKeepsIsLeakedOrWaitedForNeverFreed() throws Exception {
        IoUringEngine engine = IoUringEngine.createPrivate(64, 256);
        IoUringEngine peer = IoUringEngine.createPrivate(64, 256);
        PipeName name = freshName();
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        try {
            Pair staged = pair(server, name, peer);
            Pair confined = pair(server, name, peer);
            // The kernel "keeps" every request: no cancel, and a short limit.
            engine.failure.cancelInFlight = false;
            engine.failure.limitNanos = TimeUnit.MILLISECONDS.toNanos(300);
            AtomicReference<Object> stagedOutcome = new AtomicReference<>();
            AtomicReference<Object> confinedOutcome = new AtomicReference<>();
            Thread stagedReader = start(Thread.ofVirtual(), stagedOutcome,
                    () -> staged.servedChannel().read(new byte[16], 0, 16, -1));
            Thread confinedReader = start(Thread.ofPlatform(), confinedOutcome, () -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment dst = arena.allocate(16);
                    int n = confined.servedChannel().read(dst, -1);
                    return new String(dst.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                }
            });
            awaitParked(stagedReader);
            awaitParked(confinedReader);

            engine.poller.injectFailure(new Error(INJECTED));

            // The staging buffer's reader fails after the limit; its request is abandoned to the
            // kernel, so the pipe will leak the staging buffer instead of freeing it.
            assertTrue(stagedReader.join(Duration.ofSeconds(5)), "the staged reader woke");
            assertEngineFailure(stagedOutcome.get());
            assertTrue(staged.served().kernelMayHoldBuffers());
            // The reader of confined memory would free it by returning: it stays parked...
            assertFalse(confinedReader.join(Duration.ofMillis(700)), "the confined reader still waits");
            // ...until its request completes, which is delivered as usual.
            write(confined.client(), "hello");
            assertTrue(confinedReader.join(Duration.ofSeconds(5)), "the confined reader got its data");
            assertEquals("hello", confinedOutcome.get());
            assertFalse(confined.served().kernelMayHoldBuffers());
            assertTrue(engine.poller.thread().join(Duration.ofSeconds(5)), "the poller ended after its drain");

            // The abandoned request may still complete into the leaked staging buffer: no harm.
            write(staged.client(), "into the leak");
            Thread.sleep(50);
            assertFailsAtOnce(() -> staged.servedChannel().read(new byte[16], 0, 16, TimeUnit.SECONDS.toNanos(30)));
            staged.close();
            confined.close();
            assertEquals(2, engine.table.inUse(), "the server's slot and the abandoned read's, leaked on purpose");
        } finally {
            server.gate().startClose();
            server.release();
            engine.shutdown();
            peer.shutdown();
        }
    }
}

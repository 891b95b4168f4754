package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.Engine;
import io.panapipe.internal.Platform;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.completion.OperationTable;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The Windows engine: one I/O completion port ({@link IocpPort}), poller platform threads
 * ({@link IocpPoller}), and named pipes ({@link NamedPipeServer}, {@link NamedPipeClient},
 * {@link NamedPipeTransport}) whose every overlapped request goes through {@link OverlappedIo}.
 *
 * <p>Follow one read: {@code Pipe.read} → {@code PipeChannel.read} →
 * {@link NamedPipeTransport#read} → {@link OverlappedIo#run} ({@code ReadFile} with the caller's
 * memory and the slot's OVERLAPPED; inline on synchronous success, else park) →
 * {@link IocpPoller} dequeues the packet, reads the operation id after the OVERLAPPED, completes
 * the {@link Operation} → the reader unparks, and {@link WinError#classifyRead} says what the code
 * means.
 */
public final class IocpEngine implements Engine {
    /** System property: number of poller threads (default 1; completions are cheap to dispatch). */
    public static final String POLLERS_PROPERTY = "panapipe.iocp.pollers";
    /** How long {@link #shutdown} waits for a poller before posting it another wake-up packet. */
    private static final long WAKE_RETRY_MILLIS = 50;

    private static final class Holder {
        static final IocpEngine INSTANCE;
        static final String FAILURE;

        static {
            IocpEngine engine = null;
            String failure = null;
            try {
                engine = new IocpEngine(Integer.getInteger(POLLERS_PROPERTY, 1));
            } catch (Throwable t) {
                failure = "cannot start the IOCP engine: " + t;
            }
            INSTANCE = engine;
            FAILURE = failure;
        }
    }

    private final Win32Api api;
    private final String name;
    private final IocpPort port;
    private final IocpPoller[] pollers;
    private final OperationTable table = new OperationTable();
    private final long captureSize;
    /**
     * Arenas of owners that retired a slot ({@link #closeArena}): a packet may still name one of
     * their slots. Closed only by {@link #shutdown}, after the pollers have stopped.
     */
    private final ConcurrentLinkedQueue<Arena> kept = new ConcurrentLinkedQueue<>();
    /** Every request lane that exists, so that a dying poller can fail the requests waiting in them. */
    private final Set<OverlappedIo> lanes = ConcurrentHashMap.newKeySet();
    /** Why a poller died, or {@code null}: once set, the engine is failed for good (issue 10, defect 7). */
    private volatile Failure failure;

    private record Failure(String poller, Throwable cause) {
    }

    /** A separate engine with its own port and pollers (the JVM-wide one is {@link #instance()}). */
    IocpEngine(int pollerCount) throws PipeException {
        this(pollerCount, Win32Calls.load(), "iocp");
    }

    /**
     * An engine over {@code api}. Only {@link Win32Calls} in the library; Panapipe's own tests also
     * pass the Windows model (test sources), under a name that says so.
     */
    IocpEngine(int pollerCount, Win32Api api, String name) throws PipeException {
        this.api = api;
        this.name = name;
        if (pollerCount < 1 || pollerCount > 64) {
            throw new IllegalArgumentException(POLLERS_PROPERTY + " must be 1..64, was " + pollerCount);
        }
        captureSize = api.captureSize();
        port = new IocpPort(api);
        pollers = new IocpPoller[pollerCount];
        for (int i = 0; i < pollerCount; i++) {
            pollers[i] = new IocpPoller(this, port, table, "panapipe-iocp-poller-" + i);
            pollers[i].start();
        }
    }

    /**
     * Why this engine cannot run here, or {@code null} if it can.
     *
     * @return the reason, or {@code null}
     */
    public static String unavailableReason() {
        if (!Platform.isWindows()) {
            return "the IOCP engine needs Windows; this is " + System.getProperty("os.name");
        }
        return Holder.FAILURE;
    }

    /**
     * Panapipe's own test suite only ({@code -Dpanapipe.engine=windows-model}): this engine over the
     * <em>Windows model</em>, a model of the named-pipe file system and completion port that lives in
     * the test sources ({@code WindowsModelEngine}) and is loaded by name. The library's jar does not
     * contain it, so outside Panapipe's tests this always fails: the model can never be selected in
     * production, and a run on it is never a run on Windows.
     *
     * @return the engine over the Windows model
     * @throws IllegalStateException if the model is not on the class path (outside Panapipe's tests)
     */
    public static Engine windowsModelForTests() {
        try {
            Class<?> c = Class.forName("io.panapipe.internal.windows.WindowsModelEngine");
            return (Engine) c.getDeclaredMethod("instance").invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("panapipe.engine=windows-model exists only in Panapipe's own test suite "
                    + "(the Windows model is test code, not part of the library)", e);
        }
    }

    /**
     * The JVM-wide engine.
     *
     * @return the engine, started on first use
     * @throws IllegalStateException if {@link #unavailableReason()} gives a reason
     */
    public static IocpEngine instance() {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        return Holder.INSTANCE;
    }

    @Override
    public String name() {
        return name;
    }

    /** The kernel this engine calls: the real one, or (in Panapipe's tests only) the Windows model. */
    Win32Api api() {
        return api;
    }

    @Override
    public ServerEndpoint bind(PipeName name, PipeOptions options) throws IOException {
        checkHealthy();
        return NamedPipeServer.bind(this, name, options);
    }

    @Override
    public Transport connect(PipeName name, PipeOptions options) throws IOException {
        checkHealthy();
        return NamedPipeClient.connect(this, name, options);
    }

    @Override
    public boolean isBusy(PipeException e) {
        return WinError.isBusy(e.nativeCode());
    }

    @Override
    public boolean isAbsent(PipeException e) {
        return WinError.isAbsent(e.nativeCode());
    }

    IocpPort port() {
        return port;
    }

    /**
     * A fresh operation slot for requests on {@code handle}, its memory from {@code arena}. The
     * owner closes that arena with {@link #closeArena}, never directly, since a slot may retire.
     */
    OverlappedIo newIo(Arena arena, long handle, IoGate gate) {
        return newIo(arena, handle, gate, false);
    }

    /**
     * @param socket the handle is a Winsock {@code SOCKET}: a failed request's code comes from
     *               {@code WSAGetOverlappedResult}, not {@code GetOverlappedResult}
     */
    OverlappedIo newIo(Arena arena, long handle, IoGate gate, boolean socket) {
        Operation op = table.allocate();
        try {
            OverlappedIo io = new OverlappedIo(this, arena, op, new OverlappedSlot(arena, op.id(), captureSize), handle,
                    gate, socket);
            lanes.add(io);
            return io;
        } catch (RuntimeException e) {
            table.release(op);
            throw e;
        }
    }

    Operation allocateOperation() {
        return table.allocate();
    }

    void releaseOperation(Operation op) {
        table.release(op);
    }

    /** Returns a slot whose last request has completed (its arena is closed by the owner afterwards). */
    void releaseIo(OverlappedIo io) {
        lanes.remove(io);
        table.release(io.operation());
    }

    /**
     * Closes an owner's slot arena once none of its requests is in flight, unless one of
     * {@code ios} retired a slot in it: a packet may still come for that slot, and the poller reads
     * the operation id after its OVERLAPPED, so the memory is kept until {@link #shutdown}.
     */
    void closeArena(Arena arena, OverlappedIo... ios) {
        for (OverlappedIo io : ios) {
            if (io.retiredSlots() > 0) {
                kept.add(arena);
                return;
            }
        }
        arena.close();
    }

    /**
     * Called by a poller thread that is about to die of {@code cause} (anything but a requested
     * stop): the engine is failed for good. Every request waiting for a packet is woken (its owner
     * then cancels it and waits until the kernel has let go of its memory, see
     * {@link OverlappedIo}), and every later call fails with {@link #failure()}.
     */
    void pollerDied(String poller, Throwable cause) {
        if (failure == null) {
            failure = new Failure(poller, cause);
        }
        for (OverlappedIo io : lanes) {
            io.failPending();
        }
    }

    /** Whether a poller died ({@link #pollerDied}). */
    boolean isFailed() {
        return failure != null;
    }

    /**
     * The exception every waiter and every later call gets once a poller died, naming the cause;
     * {@code null} while the engine is healthy. A new instance per call, for its stack trace.
     */
    PipeException failure() {
        Failure f = failure;
        if (f == null) {
            return null;
        }
        PipeException e = new PipeException("IOCP engine", WinError.ERROR_ABANDONED_WAIT_0, "ENGINE_FAILED",
                "the completion-port poller " + f.poller() + " died (" + f.cause() + "); this engine serves no more I/O");
        e.initCause(f.cause());
        return e;
    }

    /** Throws {@link #failure()} if a poller died. */
    void checkHealthy() throws PipeException {
        PipeException e = failure();
        if (e != null) {
            throw e;
        }
    }

    /** Slots in use, for leak checks in tests. */
    int slotsInUse() {
        return table.inUse();
    }

    /**
     * Stops the pollers and closes the port. Only for engines made with the constructor; every
     * handle must be closed first.
     *
     * <p>One wake-up packet per poller is not enough: {@code GetQueuedCompletionStatusEx} removes
     * up to {@link IocpPoller#BATCH} entries at once, so one poller can take several wake-up
     * packets and leave another blocked. Each poller still running is sent another packet until
     * it has stopped.
     */
    void shutdown() throws PipeException, InterruptedException {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment capture = api.newCapture(local);
            for (IocpPoller poller : pollers) {
                poller.requestStop();
            }
            for (IocpPoller poller : pollers) {
                do {
                    port.wake(capture);
                } while (!poller.join(WAKE_RETRY_MILLIS));
            }
            port.close(capture);
            Arena a;
            while ((a = kept.poll()) != null) {
                a.close();
            }
        }
    }

    /**
     * Associates a foreign overlapped handle (a socket from {@code WSASocketW(..., WSA_FLAG_OVERLAPPED)},
     * a file) with this engine's port, for {@link io.panapipe.windows.IocpHandle}.
     *
     * @param socket whether {@code handle} is a Winsock {@code SOCKET}: then a failed request's code
     *               comes from {@code WSAGetOverlappedResult} ({@code WSAECONNRESET}, not
     *               {@code ERROR_NETNAME_DELETED})
     * @param handle the {@code HANDLE} or {@code SOCKET} value
     * @return the association, which issues and waits for the caller's requests
     * @throws PipeException if associating it with the port fails, or the engine has failed
     */
    public static ForeignHandle associate(long handle, boolean socket) throws PipeException {
        IocpEngine engine = instance();
        engine.checkHealthy();
        return new ForeignHandle(engine, handle, socket);
    }
}

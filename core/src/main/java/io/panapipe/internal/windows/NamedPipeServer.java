package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeTimeoutException;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.locks.LockSupport;

/**
 * A named-pipe server: a backlog of pipe instances, each waiting in an overlapped
 * {@code ConnectNamedPipe}; the server always holds a listening instance and creates the
 * replacement before it hands a connected one out (DESIGN rule 5).
 *
 * <ul>
 *   <li>The first instance is created with {@code FILE_FLAG_FIRST_PIPE_INSTANCE}: if anyone else
 *       already has the name, binding fails instead of sharing it with a squatter. So is every
 *       instance created while this server has no live instance at all (none listening, none
 *       handed out and still open): the name lapsed then, and another process may have taken it
 *       in between, which must fail loudly rather than be joined (issue 10, defect 5). The count
 *       is checked just before {@code CreateNamedPipeW}; an instance closing in that moment can
 *       still let the name lapse unnoticed, a window of one system call.</li>
 *   <li>The backlog holds {@code min(acceptBacklog, maxInstances)} listening instances; a
 *       connected one is handed out only after its replacement is listening, so the name never
 *       lapses. When {@code maxInstances} are all connected, {@code CreateNamedPipeW} says
 *       {@code ERROR_PIPE_BUSY}: the connected instances keep the name, and {@code accept}
 *       retries creating one with short sleeps.</li>
 *   <li>{@code ERROR_PIPE_CONNECTED} (the client connected between {@code CreateNamedPipeW} and
 *       {@code ConnectNamedPipe}) means connected, and no packet comes; {@code ERROR_NO_DATA}
 *       means the client came and went: disconnect and listen again.</li>
 *   <li>{@link #release} cancels each pending {@code ConnectNamedPipe} with {@code CancelIoEx},
 *       waits for its completion, then closes the handle; the security descriptor is freed last.</li>
 * </ul>
 *
 * {@link #accept} is serialised by {@link io.panapipe.PipeServer}; {@link #release} runs after
 * every accept has left, so the backlog needs no lock.
 */
final class NamedPipeServer implements ServerEndpoint {
    private static final long MAX_BUSY_PAUSE_NANOS = 10_000_000;

    /** One pipe instance in the backlog. */
    private final class Instance {
        final long handle;
        final OverlappedIo connect;
        final Arena arena = Arena.ofShared();
        boolean pending; // a ConnectNamedPipe packet will come
        boolean counted = true; // in liveInstances until freed or handed to a transport that releases it
        boolean connected;

        Instance(long handle) {
            this.handle = handle;
            try {
                this.connect = engine.newIo(arena, handle, gate);
            } catch (RuntimeException e) {
                arena.close(); // nothing was issued with it; the caller closes the handle
                throw e;
            }
        }

        void free(MemorySegment capture) {
            api.closeHandle(capture, handle);
            uncount(this);
            engine.releaseIo(connect);
            arena.close();
        }
    }

    private final IocpEngine engine;
    private final Win32Api api;
    private final PipeOptions options;
    private final String path;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment wideName;
    private final PipeSecurity.Descriptor security;
    private final IoGate gate = new IoGate();
    private final ArrayDeque<Instance> backlog = new ArrayDeque<>();
    private final int target;
    private boolean everListened; // accept/bind thread only
    private volatile Thread acceptWaiter;
    /** Instances of this server whose handle is open: in the backlog, or handed out and not yet closed. */
    private final java.util.concurrent.atomic.AtomicInteger liveInstances = new java.util.concurrent.atomic.AtomicInteger();

    private NamedPipeServer(IocpEngine engine, String path, PipeOptions options, PipeSecurity.Descriptor security) {
        this.engine = engine;
        this.api = engine.api();
        this.options = options;
        this.path = path;
        this.security = security;
        this.wideName = arena.allocateFrom(path, StandardCharsets.UTF_16LE);
        this.target = PipeFlags.backlogTarget(options);
    }

    static NamedPipeServer bind(IocpEngine engine, PipeName name, PipeOptions options) throws IOException {
        String path = PipeFlags.pipePath(name);
        if (!PipeFlags.isLocalPipePath(path)) {
            throw new IllegalArgumentException("a server can only be created on this machine (\\\\.\\pipe\\...): " + path);
        }
        PipeSecurity.Descriptor security = PipeSecurity.forServer(engine.api(), options);
        NamedPipeServer server = new NamedPipeServer(engine, path, options, security);
        try (Arena local = Arena.ofConfined()) {
            MemorySegment capture = engine.api().newCapture(local);
            Instance first = server.createInstance(capture);
            try {
                server.listen(first, capture);
            } catch (IOException | RuntimeException e) {
                first.free(capture);
                throw e;
            }
            server.backlog.add(first);
            server.topUp(capture);
            return server;
        } catch (IOException | RuntimeException e) {
            server.release();
            throw e;
        }
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    /** The name belongs to another server: never retried quietly, whatever the code. */
    private static final class NameTaken extends PipeException {
        NameTaken(String what, int code, String name, String detail) {
            super(what, code, name, detail);
        }
    }

    private void uncount(Instance instance) {
        if (instance.counted) {
            instance.counted = false;
            liveInstances.decrementAndGet();
        }
    }

    private Instance createInstance(MemorySegment capture) throws PipeException {
        boolean first = liveInstances.get() == 0;
        // the descriptor lives as long as the server, so it outlives this call (and every other one)
        long h = api.createNamedPipeW(capture, wideName.address(), PipeFlags.serverOpenMode(first),
                PipeFlags.serverPipeMode(options), PipeFlags.maxInstances(options), PipeFlags.outBufferSize(options),
                PipeFlags.inBufferSize(options), 0, security.attributes());
        if (h == IocpPort.INVALID_HANDLE || h == 0) {
            int error = api.lastError(capture);
            if (first && (error == WinError.ERROR_ACCESS_DENIED || error == WinError.ERROR_PIPE_BUSY)) {
                throw new NameTaken((everListened ? "re-listen on " : "bind ") + path, error,
                        WinError.name(error), everListened
                                ? "every instance of this server had closed, and another server took the pipe name"
                                        + " meanwhile (FILE_FLAG_FIRST_PIPE_INSTANCE)"
                                : "another server already holds this pipe name (FILE_FLAG_FIRST_PIPE_INSTANCE)");
            }
            throw WinError.exception("CreateNamedPipeW " + path, error);
        }
        liveInstances.incrementAndGet();
        everListened = true;
        Instance instance;
        try {
            engine.port().associate(h, capture);
            instance = new Instance(h);
        } catch (PipeException | RuntimeException e) {
            api.closeHandle(capture, h);
            liveInstances.decrementAndGet();
            throw e;
        }
        return instance;
    }

    /** Issues {@code ConnectNamedPipe} on an instance until it is pending or connected. */
    private void listen(Instance instance, MemorySegment capture) throws PipeException {
        for (;;) {
            instance.connected = false;
            instance.pending = instance.connect.start(OverlappedIo.CONNECT, 0L, 0);
            if (instance.pending) {
                return;
            }
            int error = instance.connect.error();
            if (error == WinError.ERROR_SUCCESS || error == WinError.ERROR_PIPE_CONNECTED) {
                instance.connected = true; // no packet comes
                return;
            }
            if (error != WinError.ERROR_NO_DATA) {
                throw WinError.exception("ConnectNamedPipe " + path, error);
            }
            disconnect(instance, capture); // the client came and went
        }
    }

    /**
     * {@code DisconnectNamedPipe}, which the documentation requires before an instance can be
     * connected to another client. If it fails, listening again would only see the same
     * {@code ERROR_NO_DATA} (and {@link #listen} would loop on it), so the failure is reported.
     */
    private void disconnect(Instance instance, MemorySegment capture) throws PipeException {
        if (api.disconnectNamedPipe(capture, instance.handle) == 0) {
            throw WinError.exception("DisconnectNamedPipe " + path, api.lastError(capture));
        }
    }

    /** Fills the backlog; stops quietly at {@code ERROR_PIPE_BUSY} (all {@code maxInstances} exist). */
    private void topUp(MemorySegment capture) throws PipeException {
        while (backlog.size() < target) {
            Instance instance;
            try {
                instance = createInstance(capture);
            } catch (PipeException e) {
                if (WinError.isBusy(e.nativeCode()) && !(e instanceof NameTaken)) {
                    return; // all maxInstances of this server exist: they hold the name
                }
                throw e;
            }
            try {
                listen(instance, capture);
            } catch (PipeException | RuntimeException e) {
                instance.free(capture);
                throw e;
            }
            backlog.add(instance);
        }
    }

    @Override
    public Transport accept(long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        long busyPause = 200_000;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment capture = api.newCapture(local);
            for (;;) {
                Instance ready = takeReady(capture);
                if (ready != null) {
                    try {
                        topUp(capture); // the replacement listens before this one is handed out
                    } catch (PipeException e) {
                        // hand this client out anyway: its instance still holds the name, and the
                        // next accept retries the replacement (and reports the error if it persists)
                    } catch (RuntimeException e) {
                        // out of the backlog and not handed out: nobody else would close it
                        ready.free(capture); // its connect has completed: the kernel holds its OVERLAPPED no more
                        throw e;
                    }
                    engine.releaseIo(ready.connect);
                    ready.arena.close();
                    try {
                        // still counted as live until the transport closes the handle
                        return new NamedPipeTransport(engine, ready.handle, true, options.mode(),
                                liveInstances::decrementAndGet);
                    } catch (RuntimeException e) {
                        // no transport owns the connected handle: close it rather than leak it
                        // (nothing is in flight on it; the client sees ERROR_BROKEN_PIPE)
                        api.closeHandle(capture, ready.handle);
                        uncount(ready);
                        throw e;
                    }
                }
                long left = timeoutNanos < 0 ? Long.MAX_VALUE : deadline - System.nanoTime();
                checkWait(left);
                if (backlog.isEmpty()) {
                    topUp(capture);
                    if (backlog.isEmpty()) {
                        // every instance is connected: wait for one to close
                        LockSupport.parkNanos(this, Math.min(left, busyPause));
                        busyPause = Math.min(busyPause * 2, MAX_BUSY_PAUSE_NANOS);
                        continue;
                    }
                }
                acceptWaiter = Thread.currentThread();
                try {
                    for (Instance instance : backlog) {
                        instance.connect.operation().adoptWaiter();
                    }
                    // Re-check closing after publishing acceptWaiter: a close that started after
                    // checkWait above read acceptWaiter == null in wakeAll and unparked nobody.
                    // Both sides are volatile (gate state, acceptWaiter), so either wakeAll sees
                    // this thread or this read sees the close; without it, an accept with no
                    // timeout parked forever and close() hung in awaitIdle.
                    if (!anyReady() && !gate.isClosing()) {
                        if (timeoutNanos < 0) {
                            LockSupport.park(this);
                        } else {
                            LockSupport.parkNanos(this, left);
                        }
                    }
                } finally {
                    acceptWaiter = null;
                }
            }
        }
    }

    private void checkWait(long left) throws IOException {
        if (gate.isClosing()) {
            throw new AsynchronousCloseException();
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new ClosedByInterruptException();
        }
        if (left <= 0) {
            throw new PipeTimeoutException("accept timed out on " + path);
        }
    }

    private boolean anyReady() {
        for (Instance instance : backlog) {
            if (instance.connected || instance.connect.operation().isDone()) {
                return true;
            }
        }
        return false;
    }

    /** Removes and returns a connected instance, recycling those whose client already left. */
    private Instance takeReady(MemorySegment capture) throws PipeException {
        for (Iterator<Instance> it = backlog.iterator(); it.hasNext(); ) {
            Instance instance = it.next();
            if (!instance.connected && instance.pending && instance.connect.operation().isDone()) {
                instance.connect.finishUninterruptibly(); // done: collects the result without waiting
                instance.pending = false;
                int error = instance.connect.error();
                if (error == WinError.ERROR_SUCCESS || error == WinError.ERROR_PIPE_CONNECTED) {
                    instance.connected = true;
                } else if (error == WinError.ERROR_NO_DATA || error == WinError.ERROR_OPERATION_ABORTED) {
                    try {
                        disconnect(instance, capture);
                        listen(instance, capture);
                    } catch (PipeException e) {
                        it.remove();
                        instance.free(capture);
                        throw e;
                    }
                } else {
                    it.remove();
                    instance.free(capture);
                    throw WinError.exception("ConnectNamedPipe " + path, error);
                }
            }
            if (instance.connected) {
                it.remove();
                return instance;
            }
        }
        return null;
    }

    @Override
    public void wakeAll() {
        Thread t = acceptWaiter;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Cancels every pending {@code ConnectNamedPipe}, waits for each completion (DESIGN rule 1: the
     * OVERLAPPED belongs to the kernel until then), closes the handles, then frees the descriptor.
     */
    @Override
    public void release() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment capture = api.newCapture(local);
            Instance instance;
            while ((instance = backlog.poll()) != null) {
                if (instance.pending && !instance.connect.operation().isDone()) {
                    instance.connect.cancel(instance.connect.operation());
                    try {
                        instance.connect.finishUninterruptibly();
                    } catch (PipeException engineFailed) {
                        // the engine failed; the request was reaped all the same: free the instance
                    }
                }
                instance.free(capture);
            }
        } finally {
            security.close();
            arena.close();
        }
    }

    /** Number of instances waiting for clients (tests). */
    int backlogSize() {
        return backlog.size();
    }
}

package io.panapipe.internal.windows;

import io.panapipe.PipeMode;
import io.panapipe.PipeOptions;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Asks the running system once whether a completion packet follows a <em>synchronous</em>
 * {@code ERROR_MORE_DATA} on a handle in {@code FILE_SKIP_COMPLETION_PORT_ON_SUCCESS} mode (see
 * {@link SyncMoreData} for why the documentation leaves it open).
 *
 * <p>One attempt: a private message-mode pipe pair (name with this process's id and a random
 * suffix, first instance, one instance, current-user DACL, remote clients rejected), both ends
 * associated with the engine's port in skip-on-success mode exactly like real pipes; the server
 * writes one 2-byte message, the client reads 1 byte. Expected: FALSE + {@code ERROR_MORE_DATA} at
 * once; then it waits up to {@link #WAIT_NANOS} for a packet for that OVERLAPPED (the poller
 * completes the read's operation if one comes). If the read pends instead, there is nothing to
 * observe: the attempt is repeated once with a new pair, and after that the safe answer
 * {@link SyncMoreData#UNKNOWN} stands.
 *
 * <p>Rule 1 holds for the probe's own requests: a pending one is cancelled and its completion
 * awaited before its slot goes back. When no packet came, the read's operation is left armed and
 * registered and its memory (from the engine's long-lived arena) is never freed: a packet that
 * arrives later completes it harmlessly, and {@link IocpEngine#syncMoreData} then stops trusting
 * {@code NO_PACKET}.
 */
final class MoreDataProbe {
    private MoreDataProbe() {
    }

    static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int OPEN_EXISTING = 3;
    private static final int PIPE_BUFFER = 4096;

    /**
     * @param answer   what the engine does with a synchronous {@code ERROR_MORE_DATA}
     * @param sentinel the probe's read operation when the answer is {@code NO_PACKET} (still armed), else null
     */
    record Result(SyncMoreData answer, Operation sentinel) {
    }

    private record Attempt(SyncMoreData.Observation seen, Operation sentinel) {
    }

    /** @param keep an arena that lives as long as the engine (the read's slot may have to outlive the probe) */
    static Result run(IocpEngine engine, Arena keep) {
        Attempt first = attempt(engine, keep);
        Attempt second = SyncMoreData.retry(first.seen()) ? attempt(engine, keep) : null;
        SyncMoreData answer = SyncMoreData.decide(first.seen(), second == null ? null : second.seen());
        Attempt used = second != null ? second : first;
        return new Result(answer, answer == SyncMoreData.NO_PACKET ? used.sentinel() : null);
    }

    private static Attempt attempt(IocpEngine engine, Arena keep) {
        try {
            return attemptOrThrow(engine, keep);
        } catch (Exception | LinkageError e) {
            return new Attempt(SyncMoreData.Observation.FAILED, null);
        }
    }

    private static Attempt attemptOrThrow(IocpEngine engine, Arena keep) throws Exception {
        PipeOptions options = PipeOptions.defaults().withMode(PipeMode.MESSAGE).withMaxInstances(1);
        String path = "\\\\.\\pipe\\panapipe-probe-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(new SecureRandom().nextLong());
        IoGate gate = new IoGate();
        try (Arena local = Arena.ofConfined();
             Arena slots = Arena.ofShared()) {
            MemorySegment capture = Win32Calls.newCapture(local);
            MemorySegment name = local.allocateFrom(path, StandardCharsets.UTF_16LE);
            long server;
            // the descriptor only has to live through CreateNamedPipeW, which copies it
            try (PipeSecurity.Descriptor security = PipeSecurity.forServer(options)) {
                server = Win32Calls.createNamedPipeW(capture, name.address(), PipeFlags.serverOpenMode(true),
                        PipeFlags.serverPipeMode(options), 1, PIPE_BUFFER, PIPE_BUFFER, 0, security.attributes());
            }
            if (server == IocpPort.INVALID_HANDLE || server == 0) {
                return new Attempt(SyncMoreData.Observation.FAILED, null);
            }
            long client = IocpPort.INVALID_HANDLE;
            OverlappedIo connect = null;
            OverlappedIo writer = null;
            OverlappedIo reader = null;
            Operation sentinel = null;
            try {
                client = Win32Calls.createFileW(capture, name.address(), PipeFlags.clientAccess(), 0, 0L,
                        OPEN_EXISTING, PipeFlags.clientFlags(options), 0L);
                if (client == IocpPort.INVALID_HANDLE || client == 0) {
                    client = IocpPort.INVALID_HANDLE;
                    return new Attempt(SyncMoreData.Observation.FAILED, null);
                }
                MemorySegment mode = local.allocateFrom(ValueLayout.JAVA_INT, PipeFlags.clientReadMode(options));
                if (Win32Calls.setNamedPipeHandleState(capture, client, mode.address(), 0L, 0L) == 0) {
                    return new Attempt(SyncMoreData.Observation.FAILED, null);
                }
                engine.port().associate(server, capture);
                engine.port().associate(client, capture);

                // the client is already open: ERROR_PIPE_CONNECTED, no packet
                connect = engine.newIo(slots, server, gate);
                if (connect.start(OverlappedIo.CONNECT, 0L, 0)) {
                    connect.finish(WAIT_NANOS); // cancels on timeout and waits for the completion
                }
                if (connect.error() != WinError.ERROR_SUCCESS && connect.error() != WinError.ERROR_PIPE_CONNECTED) {
                    return new Attempt(SyncMoreData.Observation.FAILED, null);
                }

                writer = engine.newIo(slots, server, gate);
                MemorySegment message = slots.allocate(2);
                message.set(ValueLayout.JAVA_BYTE, 0, (byte) 'p');
                message.set(ValueLayout.JAVA_BYTE, 1, (byte) 'q');
                writer.run(OverlappedIo.WRITE, message.address(), 2, WAIT_NANOS);
                if (writer.error() != WinError.ERROR_SUCCESS || writer.bytes() != 2) {
                    return new Attempt(SyncMoreData.Observation.FAILED, null);
                }

                // the read's slot and buffer come from the engine's arena: they may have to outlive us
                reader = engine.newIo(keep, client, gate);
                MemorySegment one = keep.allocate(1);
                Operation op = reader.operation();
                int e = reader.issue(OverlappedIo.READ, one.address(), 1);
                if (e == WinError.ERROR_IO_PENDING) {
                    reader.finish(WAIT_NANOS); // cancels on timeout and waits for the completion
                    return new Attempt(SyncMoreData.Observation.PENDED, null);
                }
                if (e != WinError.ERROR_MORE_DATA) {
                    op.completeInline(0, e); // returned at once: nothing is queued
                    return new Attempt(SyncMoreData.Observation.FAILED, null);
                }
                long deadline = System.nanoTime() + WAIT_NANOS;
                long left;
                while (!op.isDone() && (left = deadline - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(MoreDataProbe.class, left); // the poller unparks us on the packet
                }
                if (op.isDone()) {
                    return new Attempt(SyncMoreData.Observation.PACKET_CAME, null);
                }
                sentinel = op; // stays armed and registered; its memory is the engine's
                return new Attempt(SyncMoreData.Observation.NO_PACKET_WITHIN_WAIT, op);
            } finally {
                if (client != IocpPort.INVALID_HANDLE) {
                    Win32Calls.closeHandle(capture, client);
                }
                Win32Calls.closeHandle(capture, server);
                // every request below has completed (inline, or its packet was awaited)
                if (connect != null) {
                    engine.releaseIo(connect);
                }
                if (writer != null) {
                    engine.releaseIo(writer);
                }
                if (reader != null && sentinel == null) {
                    engine.releaseIo(reader);
                }
            }
        }
    }
}

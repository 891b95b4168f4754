package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Opening the client end (rule 6): one {@code CreateFileW} attempt, never a
 * {@code WaitNamedPipeW} (it would block a carrier thread); {@link io.panapipe.PipeClient} retries
 * {@code ERROR_PIPE_BUSY} with short sleeps, and {@code ERROR_FILE_NOT_FOUND} only if asked to wait.
 */
final class NamedPipeClient {
    private NamedPipeClient() {
    }

    /** {@code OPEN_EXISTING}. */
    private static final int OPEN_EXISTING = 3;

    static NamedPipeTransport connect(IocpEngine engine, PipeName name, PipeOptions options) throws IOException {
        String path = PipeFlags.pipePath(name);
        Win32Api api = engine.api();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment capture = api.newCapture(local);
            MemorySegment wide = local.allocateFrom(path, StandardCharsets.UTF_16LE);
            long h = api.createFileW(capture, wide.address(), PipeFlags.clientAccess(), 0, 0L, OPEN_EXISTING,
                    PipeFlags.clientFlags(options), 0L);
            if (h == IocpPort.INVALID_HANDLE || h == 0) {
                throw WinError.exception("connect to " + path, api.lastError(capture));
            }
            try {
                int readMode = PipeFlags.clientReadMode(options);
                if (readMode >= 0) {
                    MemorySegment mode = local.allocateFrom(ValueLayout.JAVA_INT, readMode);
                    if (api.setNamedPipeHandleState(capture, h, mode.address(), 0L, 0L) == 0) {
                        throw WinError.exception("SetNamedPipeHandleState(PIPE_READMODE_MESSAGE) " + path,
                                api.lastError(capture));
                    }
                }
                engine.port().associate(h, capture);
                if (options.verifyServerUser()) {
                    verifyServerUser(api, capture, local, h, path);
                }
                return new NamedPipeTransport(engine, h, false, options.mode());
            } catch (IOException | RuntimeException e) {
                api.closeHandle(capture, h);
                throw e;
            }
        }
    }

    /** Refuses a server whose process runs as another user than this one. */
    private static void verifyServerUser(Win32Api api, MemorySegment capture, Arena local, long h, String path) throws PipeException {
        MemorySegment pid = local.allocate(ValueLayout.JAVA_INT);
        if (api.getNamedPipeServerProcessId(capture, h, pid.address()) == 0) {
            throw WinError.exception("GetNamedPipeServerProcessId " + path, api.lastError(capture));
        }
        int serverPid = pid.get(ValueLayout.JAVA_INT, 0);
        String serverUser = PipeSecurity.processUserSid(api, serverPid);
        String me = PipeSecurity.currentUserSid(api);
        if (!serverUser.equals(me)) {
            throw new PipeException("connect to " + path, WinError.ERROR_ACCESS_DENIED, "ERROR_ACCESS_DENIED",
                    "the server (process " + Integer.toUnsignedString(serverPid) + ") runs as " + serverUser
                            + ", not as this user (" + me + ")");
        }
    }
}

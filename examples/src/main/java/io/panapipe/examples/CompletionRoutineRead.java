package io.panapipe.examples;

import io.panapipe.PipeException;
import io.panapipe.bindings.windows.LPOVERLAPPED_COMPLETION_ROUTINE;
import io.panapipe.bindings.windows.Win32;
import io.panapipe.bindings.windows._OVERLAPPED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A completion-routine read — {@code ReadFileEx} with an
 * {@code LPOVERLAPPED_COMPLETION_ROUTINE} implemented in Java (an FFM upcall stub), run by the
 * kernel as an APC when the issuing thread waits alertably in {@code SleepEx(..., TRUE)}.
 *
 * <p>The routine runs on the thread that issued the read, and only inside an alertable wait, so
 * it must be a platform thread; the upcall stub and the OVERLAPPED must stay alive until the
 * routine has run. Windows only.
 */
public final class CompletionRoutineRead {
    private CompletionRoutineRead() {
    }

    /** What the completion routine saw. */
    public record Completion(int error, int bytes, String text, int alertableWaits) {
    }

    private static final Captured CREATE_PIPE = Captured.of(Win32.CreateNamedPipeW$address(), Win32.CreateNamedPipeW$descriptor());
    private static final Captured CREATE_FILE = Captured.of(Win32.CreateFileW$address(), Win32.CreateFileW$descriptor());
    private static final Captured READ_EX = Captured.of(Win32.ReadFileEx$address(), Win32.ReadFileEx$descriptor());

    /**
     * Makes a pipe pair, writes {@code message} from the client end, and reads it on the server end
     * with {@code ReadFileEx}, sleeping alertably until the routine has run.
     */
    public static Completion roundTrip(String pipePath, String message) throws PipeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Captured.state(arena);
            MemorySegment name = arena.allocateFrom(pipePath, StandardCharsets.UTF_16LE);
            MemorySegment server = (MemorySegment) CREATE_PIPE.call(state, name,
                    Win32.PIPE_ACCESS_DUPLEX() | Win32.FILE_FLAG_OVERLAPPED() | Win32.FILE_FLAG_FIRST_PIPE_INSTANCE(),
                    Win32.PIPE_TYPE_MESSAGE() | Win32.PIPE_READMODE_MESSAGE() | Win32.PIPE_REJECT_REMOTE_CLIENTS(),
                    1, 4096, 4096, 0, MemorySegment.NULL);
            if (server.address() == -1L) {
                throw new PipeException("CreateNamedPipeW", Captured.lastError(state), "CreateNamedPipeW", null);
            }
            // A client handle opened without FILE_FLAG_OVERLAPPED: its WriteFile is plain and synchronous.
            MemorySegment client = (MemorySegment) CREATE_FILE.call(state, name,
                    Win32.GENERIC_READ() | Win32.GENERIC_WRITE(), 0, MemorySegment.NULL, Win32.OPEN_EXISTING(),
                    Win32.SECURITY_SQOS_PRESENT() | Win32.SECURITY_IDENTIFICATION(), MemorySegment.NULL);
            if (client.address() == -1L) {
                Win32.CloseHandle(server);
                throw new PipeException("CreateFileW", Captured.lastError(state), "CreateFileW", null);
            }
            try {
                byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
                MemorySegment written = arena.allocate(ValueLayout.JAVA_INT);
                Win32.WriteFile(client, arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes), bytes.length, written,
                        MemorySegment.NULL);

                MemorySegment buffer = arena.allocate(4096);
                MemorySegment ov = _OVERLAPPED.allocate(arena);
                int[] seen = {-1, -1};
                MemorySegment routine = LPOVERLAPPED_COMPLETION_ROUTINE.allocate((error, n, lpOverlapped) -> {
                    seen[0] = error; // runs on this thread, inside SleepEx below
                    seen[1] = n;
                }, arena);
                if (READ_EX.callInt(state, server, buffer, (int) buffer.byteSize(), ov, routine) == 0) {
                    throw new PipeException("ReadFileEx", Captured.lastError(state), "ReadFileEx", null);
                }
                int waits = 0;
                while (seen[0] < 0) {
                    int rc = Win32.SleepEx(5000, 1);
                    waits++;
                    if (rc != Win32.WAIT_IO_COMPLETION() && seen[0] < 0) {
                        throw new PipeException("SleepEx", rc, "WAIT_TIMEOUT", "the completion routine did not run");
                    }
                }
                String text = new String(buffer.asSlice(0, seen[1]).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                return new Completion(seen[0], seen[1], text, waits);
            } finally {
                Win32.CloseHandle(client);
                Win32.CloseHandle(server);
            }
        }
    }
}

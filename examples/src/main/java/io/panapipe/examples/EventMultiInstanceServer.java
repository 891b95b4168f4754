package io.panapipe.examples;

import io.panapipe.PipeException;
import io.panapipe.bindings.windows.Win32;
import io.panapipe.windows.Overlapped;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The classic event-based multi-instance server, ported line for line onto the
 * bindings and the {@link Overlapped} helper — {@code CreateNamedPipeW} ×4, each with an
 * OVERLAPPED and a manual-reset event; one thread waits with {@code WaitForMultipleObjects},
 * finishes the signalled instance's request with {@code GetOverlappedResult}, and moves it through
 * connecting → reading → writing; when its client leaves ({@code ERROR_BROKEN_PIPE}), the instance
 * is disconnected and connects again. No {@code FlushFileBuffers}: an instance is only
 * disconnected after its client has gone, so nothing unread is discarded.
 *
 * <p>This is the pattern for people porting C code; it blocks a platform thread in the kernel.
 * {@link MultiInstanceServer} is the same server on Panapipe's completion port. Windows only.
 */
public final class EventMultiInstanceServer implements AutoCloseable {
    public static final int INSTANCES = 4;
    private static final int BUFSIZE = 512;
    private static final int CONNECTING = 0;
    private static final int READING = 1;
    private static final int WRITING = 2;

    private static final Captured CONNECT = Captured.of(Win32.ConnectNamedPipe$address(), Win32.ConnectNamedPipe$descriptor());
    private static final Captured READ = Captured.of(Win32.ReadFile$address(), Win32.ReadFile$descriptor());
    private static final Captured WRITE = Captured.of(Win32.WriteFile$address(), Win32.WriteFile$descriptor());
    private static final Captured RESULT = Captured.of(Win32.GetOverlappedResult$address(), Win32.GetOverlappedResult$descriptor());
    private static final Captured CREATE = Captured.of(Win32.CreateNamedPipeW$address(), Win32.CreateNamedPipeW$descriptor());

    private final Arena arena = Arena.ofShared();
    private final MemorySegment state = Captured.state(arena);
    private final MemorySegment[] pipes = new MemorySegment[INSTANCES];
    private final Overlapped[] overlapped = new Overlapped[INSTANCES];
    private final MemorySegment[] buffers = new MemorySegment[INSTANCES];
    private final int[] phase = new int[INSTANCES];
    private final boolean[] pending = new boolean[INSTANCES];
    private final MemorySegment events = arena.allocate(ValueLayout.ADDRESS, INSTANCES);
    private final MemorySegment transferred = arena.allocate(ValueLayout.JAVA_INT);
    private int served;

    /** Creates the four instances and starts each listening. */
    public EventMultiInstanceServer(String pipePath) throws PipeException {
        MemorySegment name = arena.allocateFrom(pipePath, StandardCharsets.UTF_16LE);
        for (int i = 0; i < INSTANCES; i++) {
            overlapped[i] = new Overlapped(true);
            events.setAtIndex(ValueLayout.ADDRESS, i, overlapped[i].event());
            buffers[i] = arena.allocate(BUFSIZE);
            MemorySegment h = (MemorySegment) CREATE.call(state, name,
                    Win32.PIPE_ACCESS_DUPLEX() | Win32.FILE_FLAG_OVERLAPPED(),
                    Win32.PIPE_TYPE_MESSAGE() | Win32.PIPE_READMODE_MESSAGE() | Win32.PIPE_WAIT()
                            | Win32.PIPE_REJECT_REMOTE_CLIENTS(),
                    INSTANCES, BUFSIZE, BUFSIZE, 5000, MemorySegment.NULL);
            if (h.address() == -1L) {
                throw error("CreateNamedPipeW", Captured.lastError(state));
            }
            pipes[i] = h;
            connect(i);
        }
    }

    /** Serves until {@code clients} clients have come and gone (or {@code millis} pass without an event). */
    public int serve(int clients, int millis) throws PipeException {
        while (served < clients) {
            int wait = Win32.WaitForMultipleObjects(INSTANCES, events, 0, millis);
            if (wait == Win32.WAIT_TIMEOUT()) {
                throw new PipeException("WaitForMultipleObjects", wait, "WAIT_TIMEOUT", "no event in " + millis + " ms");
            }
            int i = wait - Win32.WAIT_OBJECT_0();
            if (i < 0 || i >= INSTANCES) {
                throw new PipeException("WaitForMultipleObjects", wait, "WAIT_FAILED", "unexpected result");
            }
            int bytes = 0;
            if (pending[i]) {
                pending[i] = false;
                int ok = RESULT.callInt(state, pipes[i], overlapped[i].segment(), transferred, 0);
                bytes = transferred.get(ValueLayout.JAVA_INT, 0);
                if (ok == 0) {
                    int error = Captured.lastError(state);
                    if (phase[i] == READING && error == Win32.ERROR_MORE_DATA()) {
                        // a message longer than BUFSIZE: answer the part we have
                    } else {
                        reconnect(i); // the client left (ERROR_BROKEN_PIPE) or failed
                        continue;
                    }
                }
                if (phase[i] == CONNECTING) {
                    phase[i] = READING;
                } else if (phase[i] == READING) {
                    phase[i] = WRITING;
                } else {
                    phase[i] = READING;
                }
            }
            step(i, bytes);
        }
        return served;
    }

    /** Issues the next request of instance {@code i}; {@code bytes} is what the last read got. */
    private void step(int i, int bytes) throws PipeException {
        overlapped[i].reset();
        MemorySegment ov = overlapped[i].segment();
        int ok;
        if (phase[i] == READING) {
            ok = READ.callInt(state, pipes[i], buffers[i], BUFSIZE, MemorySegment.NULL, ov);
        } else if (phase[i] == WRITING) {
            ok = WRITE.callInt(state, pipes[i], buffers[i], bytes, MemorySegment.NULL, ov);
        } else {
            return;
        }
        if (ok != 0) {
            pending[i] = true; // completed at once; the event is set, the loop collects it
            Win32.SetEvent(overlapped[i].event());
            return;
        }
        int error = Captured.lastError(state);
        if (error == Win32.ERROR_IO_PENDING() || (phase[i] == READING && error == Win32.ERROR_MORE_DATA())) {
            pending[i] = true;
            if (error == Win32.ERROR_MORE_DATA()) {
                Win32.SetEvent(overlapped[i].event());
            }
            return;
        }
        reconnect(i);
    }

    private void connect(int i) throws PipeException {
        overlapped[i].reset();
        phase[i] = CONNECTING;
        int ok = CONNECT.callInt(state, pipes[i], overlapped[i].segment());
        int error = ok != 0 ? 0 : Captured.lastError(state);
        if (error == Win32.ERROR_IO_PENDING()) {
            pending[i] = true;
        } else if (ok != 0 || error == Win32.ERROR_PIPE_CONNECTED()) {
            pending[i] = false;
            phase[i] = READING;
            Win32.SetEvent(overlapped[i].event()); // go read at once
        } else if (error == Win32.ERROR_NO_DATA()) {
            Win32.DisconnectNamedPipe(pipes[i]);
            connect(i);
        } else {
            throw error("ConnectNamedPipe", error);
        }
    }

    /** The client left: disconnect (nothing unread is lost, it is gone) and listen again. */
    private void reconnect(int i) throws PipeException {
        if (phase[i] != CONNECTING) {
            served++;
        }
        Win32.DisconnectNamedPipe(pipes[i]);
        connect(i);
    }

    private static PipeException error(String what, int code) {
        return new PipeException(what, code, "ERROR_" + code, null);
    }

    @Override
    public void close() {
        for (int i = 0; i < INSTANCES; i++) {
            if (pipes[i] != null) {
                if (pending[i]) {
                    Win32.CancelIoEx(pipes[i], overlapped[i].segment());
                    // the kernel owns the OVERLAPPED until the request completes: wait for it
                    Win32.WaitForSingleObject(overlapped[i].event(), Win32.INFINITE());
                }
                Win32.CloseHandle(pipes[i]);
            }
            if (overlapped[i] != null) {
                overlapped[i].close();
            }
        }
        arena.close();
    }
}

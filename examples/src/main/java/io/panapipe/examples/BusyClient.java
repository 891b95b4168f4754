package io.panapipe.examples;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeName;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The busy-pipe client that waits for a busy pipe, writes a request and reads the reply —
 * twice on one connection.
 *
 * <p>The C sample loops on {@code CreateFile}, and on {@code ERROR_PIPE_BUSY} calls
 * {@code WaitNamedPipe} for up to 20 seconds. {@link PipeClient#connect(PipeName, Duration)} does the
 * waiting by retrying with short sleeps, which costs a virtual thread nothing (a
 * {@code WaitNamedPipe} would block its carrier).
 *
 * <pre>java io.panapipe.examples.BusyClient [name]</pre>
 */
public final class BusyClient {
    public static final Duration BUSY_WAIT = Duration.ofSeconds(20);

    private BusyClient() {
    }

    /** Sends each request on one connection and returns the replies (one read each). */
    public static List<String> exchange(PipeName name, Duration wait, String... requests) throws IOException {
        List<String> replies = new ArrayList<>();
        try (Pipe pipe = PipeClient.connect(name, wait); Arena arena = Arena.ofConfined()) {
            MemorySegment reply = arena.allocate(1024);
            for (String request : requests) {
                pipe.write(arena.allocateFrom(ValueLayout.JAVA_BYTE, request.getBytes(StandardCharsets.UTF_8)));
                int n = pipe.read(reply, Duration.ofSeconds(5));
                if (n < 0) {
                    throw new IOException("server closed the pipe");
                }
                replies.add(new String(reply.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
            }
        }
        return replies;
    }

    public static void main(String[] args) throws IOException {
        PipeName name = PipeName.of(args.length > 0 ? args[0] : "panapipe-multi");
        for (String reply : exchange(name, BUSY_WAIT, "first request", "second request")) {
            System.out.println(reply);
        }
    }
}

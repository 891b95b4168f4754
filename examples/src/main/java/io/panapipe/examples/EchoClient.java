package io.panapipe.examples;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeName;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The echo client: connects within 5 seconds, sends a line, reads the echo with a
 * 5-second timeout.
 *
 * <pre>java io.panapipe.examples.EchoClient [name] [text]</pre>
 */
public final class EchoClient {
    private EchoClient() {
    }

    /** Sends {@code text} and returns the echo. */
    public static String echo(PipeName name, String text, Duration timeout) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try (Pipe pipe = PipeClient.connect(name, timeout); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, bytes);
            pipe.write(out);
            MemorySegment in = arena.allocate(bytes.length);
            long got = 0;
            while (got < bytes.length) {
                int n = pipe.read(in.asSlice(got), timeout);
                if (n < 0) {
                    throw new IOException("server closed after " + got + " of " + bytes.length + " bytes");
                }
                got += n;
            }
            return new String(in.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    public static void main(String[] args) throws IOException {
        PipeName name = PipeName.of(args.length > 0 ? args[0] : "panapipe-echo");
        String text = args.length > 1 ? args[1] : "hello, pipe";
        System.out.println(echo(name, text, EchoServer.TIMEOUT));
    }
}

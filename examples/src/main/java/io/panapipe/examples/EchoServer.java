package io.panapipe.examples;

import io.panapipe.Pipe;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.PipeTimeoutException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A single-instance echo server with 5-second connect, read and write timeouts —
 * the overlapped sample that waits on an event with a timeout, in Panapipe terms.
 *
 * <p>One pipe instance ({@code maxInstances(1)}); each client is echoed until it closes; a client
 * that says nothing for 5 seconds is dropped; if nobody connects within 5 seconds the server says
 * so and waits again. A write that cannot finish in 5 seconds (the client stopped reading) closes
 * the pipe, which cancels the write (Panapipe cancels with {@code CancelIoEx} and waits for the
 * completion).
 *
 * <pre>java io.panapipe.examples.EchoServer [name] [clients]</pre>
 */
public final class EchoServer {
    public static final Duration TIMEOUT = Duration.ofSeconds(5);

    private EchoServer() {
    }

    public static PipeServer bind(PipeName name) throws IOException {
        return PipeServer.bind(name, PipeOptions.defaults().withMaxInstances(1).withAcceptBacklog(1));
    }

    /**
     * Serves {@code clients} clients one after another.
     *
     * @return bytes echoed in total
     */
    public static long serve(PipeServer server, int clients, Duration timeout) throws IOException {
        long total = 0;
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "echo-write-watchdog");
            t.setDaemon(true);
            return t;
        });
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            int served = 0;
            while (served < clients) {
                Pipe pipe;
                try {
                    pipe = server.accept(timeout);                          // connect timeout
                } catch (PipeTimeoutException e) {
                    System.out.println("no client within " + timeout + "; still waiting");
                    continue;
                }
                served++;
                try (pipe) {
                    for (;;) {
                        int n;
                        try {
                            n = pipe.read(buf, timeout);                     // read timeout
                        } catch (PipeTimeoutException e) {
                            System.out.println("client idle for " + timeout + "; dropping it");
                            break;
                        }
                        if (n < 0) {
                            break;                                           // client closed
                        }
                        total += writeWithin(pipe, buf.asSlice(0, n), timeout, watchdog);  // write timeout
                    }
                } catch (IOException e) {
                    System.out.println("client failed: " + e);
                }
            }
        } finally {
            watchdog.shutdownNow();
        }
        return total;
    }

    /** Writes all of {@code data}, closing the pipe (which cancels the write) if it takes longer than {@code timeout}. */
    static int writeWithin(Pipe pipe, MemorySegment data, Duration timeout, ScheduledExecutorService watchdog)
            throws IOException {
        ScheduledFuture<?> guard = watchdog.schedule(() -> {
            try {
                pipe.close();
            } catch (IOException ignored) {
                // the writer sees AsynchronousCloseException
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        try {
            return pipe.write(data);
        } finally {
            guard.cancel(false);
        }
    }

    public static void main(String[] args) throws IOException {
        PipeName name = PipeName.of(args.length > 0 ? args[0] : "panapipe-echo");
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : Integer.MAX_VALUE;
        try (PipeServer server = bind(name)) {
            System.out.println("echo server on " + name.osPath());
            serve(server, clients, TIMEOUT);
        }
    }
}

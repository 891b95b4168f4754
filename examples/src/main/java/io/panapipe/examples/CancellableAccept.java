package io.panapipe.examples;

import io.panapipe.Pipe;
import io.panapipe.PipeName;
import io.panapipe.PipeServer;

import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * An accept loop that a shutdown signal stops gracefully.
 *
 * <p>The C sample waits on two events — the pending {@code ConnectNamedPipe}'s and a "stop"
 * event — and cancels the connect when stop is signalled. Here the signal closes the server:
 * the blocked {@link PipeServer#accept()} wakes with {@link AsynchronousCloseException} (the
 * engine cancelled the pending connect and waited for its completion), the loop ends, and
 * connections already accepted finish on their own.
 *
 * <pre>java io.panapipe.examples.CancellableAccept [name]   (Ctrl-C is the signal)</pre>
 */
public final class CancellableAccept {
    private final PipeServer server;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile int accepted;

    public CancellableAccept(PipeName name) throws IOException {
        server = PipeServer.bind(name);
    }

    /** Accepts until {@link #shutdown()}; each client goes to {@code handler} on its own virtual thread. */
    public void run(Consumer<Pipe> handler) throws IOException {
        try {
            while (true) {
                Pipe pipe;
                try {
                    pipe = server.accept();
                } catch (AsynchronousCloseException e) {
                    return; // the shutdown signal: a graceful end, not an error
                }
                accepted++;
                Thread.ofVirtual().start(() -> handler.accept(pipe));
            }
        } finally {
            stopped.countDown();
        }
    }

    /** The shutdown signal: wakes the accept and waits until the loop has ended. */
    public void shutdown() throws IOException, InterruptedException {
        server.close();
        stopped.await();
    }

    public int accepted() {
        return accepted;
    }

    public static void main(String[] args) throws Exception {
        CancellableAccept app = new CancellableAccept(PipeName.of(args.length > 0 ? args[0] : "panapipe-cancel"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                app.shutdown();
                System.out.println("stopped after " + app.accepted() + " clients");
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        app.run(pipe -> {
            try (pipe) {
                pipe.outputStream().write("hello\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            } catch (IOException ignored) {
                // client left
            }
        });
    }
}

package io.panapipe.examples;

import io.panapipe.Pipe;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The multi-instance server — four pipe instances serving simultaneous
 * clients, each instance reconnecting to a new client when its client leaves.
 *
 * <p>The C sample keeps four instances and, when a client goes, calls
 * {@code DisconnectNamedPipe} + {@code ConnectNamedPipe} on that instance. Here four worker
 * threads each run "accept, serve until the client leaves, close, accept again"; the server
 * holds at most four instances ({@code maxInstances(4)}) and keeps listening ones ready. Closing a
 * served pipe never calls {@code FlushFileBuffers}: the client has read its reply before it
 * leaves, and a flush would only block the worker until it had.
 *
 * <pre>java io.panapipe.examples.MultiInstanceServer [name]</pre>
 */
public final class MultiInstanceServer implements AutoCloseable {
    public static final int INSTANCES = 4;

    private final PipeServer server;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicLong served = new AtomicLong();

    public MultiInstanceServer(PipeName name) throws IOException {
        server = PipeServer.bind(name, PipeOptions.defaults().withMaxInstances(INSTANCES).withAcceptBacklog(INSTANCES));
        for (int i = 0; i < INSTANCES; i++) {
            workers.add(Thread.ofVirtual().name("instance-" + i).start(this::instanceLoop));
        }
    }

    /** One instance: serve a client, and when it leaves, take the next. */
    private void instanceLoop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment request = arena.allocate(512);
            MemorySegment reply = arena.allocate(512 + 16);
            while (server.isOpen()) {
                try (Pipe pipe = server.accept()) {
                    for (int n; (n = pipe.read(request)) >= 0; ) {
                        // reply = "echo: " + request
                        byte[] prefix = "echo: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                        MemorySegment.copy(MemorySegment.ofArray(prefix), 0, reply, 0, prefix.length);
                        MemorySegment.copy(request, 0, reply, prefix.length, n);
                        pipe.write(reply.asSlice(0, prefix.length + n));
                    }
                    served.incrementAndGet();
                } catch (ClosedChannelException e) {
                    return; // the server closed
                } catch (IOException e) {
                    // this client broke; the instance takes the next one
                }
            }
        }
    }

    /** Clients served to the end so far. */
    public long served() {
        return served.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Thread t : workers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    public static void main(String[] args) throws Exception {
        PipeName name = PipeName.of(args.length > 0 ? args[0] : "panapipe-multi");
        try (MultiInstanceServer _ = new MultiInstanceServer(name)) {   // serves until the JVM stops
            System.out.println("serving " + INSTANCES + " instances on " + name.osPath() + "; Ctrl-C to stop");
            Thread.currentThread().join();
        }
    }
}

package io.panapipe.bench;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.internal.Engines;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Panapipe as a performance-minded user drives it: one native {@link MemorySegment} per
 * connection, {@link Pipe#read(MemorySegment)} and {@link Pipe#write(MemorySegment)} with no copy
 * and no allocation per call (a slice is taken only for partial transfers).
 *
 * <p>The engine is chosen once per JVM, so a peer fixes it before first use: each JMH fork and each
 * harness child JVM measures one peer, and the constructor refuses a JVM already on another engine.
 */
final class PanapipeTransport implements Transport {
    private final String name;

    PanapipeTransport(String name, String engine) {
        this.name = name;
        if (System.getProperty(Engines.PROPERTY) == null) {
            System.setProperty(Engines.PROPERTY, engine);
        }
        String chosen = Engines.get().name();
        if (!chosen.equals(engine)) {
            throw new IllegalStateException(name + " needs the " + engine + " engine, but this JVM runs " + chosen
                    + " (one engine per JVM: measure each Panapipe peer in its own fork)");
        }
    }

    @Override public String name() { return name; }

    @Override public Server bind(Path path) throws IOException {
        PipeServer server = PipeServer.bind(PipeName.ofSocketPath(path),
                PipeOptions.defaults().withAcceptBacklog(PipeOptions.MAX_ACCEPT_BACKLOG));
        return new Server() {
            @Override public Conn accept(int bufferSize) throws IOException { return new PipeConn(server.accept(), bufferSize); }
            @Override public void close() throws IOException { server.close(); }
        };
    }

    @Override public Conn connect(Path path, int bufferSize) throws IOException {
        return new PipeConn(PipeClient.connect(PipeName.ofSocketPath(path)), bufferSize);
    }

    private static final class PipeConn implements Conn {
        private final Pipe pipe;
        private final MemorySegment buf;

        PipeConn(Pipe pipe, int bufferSize) {
            this.pipe = pipe;
            // Freed by the GC, as the other peers' direct ByteBuffers are: closing a shared arena
            // would put a JVM-wide handshake (~35 µs) into every connection's teardown, a cost of
            // the benchmark's buffer, not of the library (see ConnectBench).
            this.buf = Arena.ofAuto().allocate(Math.max(1, bufferSize), 64);
        }

        private MemorySegment part(long offset, long length) {
            return offset == 0 && length == buf.byteSize() ? buf : buf.asSlice(offset, length);
        }

        @Override public void writeFully(int n) throws IOException { pipe.write(part(0, n)); }

        @Override public int read(int max) throws IOException { return pipe.read(part(0, Math.min(max, buf.byteSize()))); }

        @Override public int readAt(int offset, int len) throws IOException { return pipe.read(part(offset, len)); }

        /** Panapipe has no half-close; closing is the end of stream the other side waits for. */
        @Override public void shutdownOutput() throws IOException { close(); }

        @Override public void close() throws IOException { pipe.close(); }
    }
}

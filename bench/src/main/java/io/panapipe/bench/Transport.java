package io.panapipe.bench;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One peer under test, as a thin adapter: bind a server on a socket path, connect a client to it.
 *
 * <p>Every connection owns one buffer of the peer's native kind (a {@code byte[]} for stream APIs,
 * a direct {@code ByteBuffer} for channel APIs, a {@code MemorySegment} for Panapipe), allocated
 * once when the connection is made, so the measured loops copy nothing the peer would not copy
 * anyway. The payload's content does not matter to any benchmark, only its length.
 */
public interface Transport {

    /** The peer's name, as used in {@code @Param peer} and in the report. */
    String name();

    /** Binds a listening server on {@code path} (a fresh path in a fresh directory). */
    Server bind(Path path) throws IOException;

    /** Connects to the server on {@code path}; the connection's buffer holds {@code bufferSize} bytes. */
    Conn connect(Path path, int bufferSize) throws IOException;

    /** A listening server. */
    interface Server extends Closeable {
        /** Accepts one connection whose buffer holds {@code bufferSize} bytes. */
        Conn accept(int bufferSize) throws IOException;
    }

    /** One connected stream. Not thread-safe: one reader and one writer at most (the same thread here). */
    interface Conn extends Closeable {
        /** Writes the first {@code n} bytes of the buffer, all of them. */
        void writeFully(int n) throws IOException;

        /** Reads up to {@code max} bytes into the buffer; -1 at end of stream. */
        int read(int max) throws IOException;

        /** Reads exactly {@code n} bytes into the buffer, or throws {@link EOFException}. */
        default void readFully(int n) throws IOException {
            int got = 0;
            while (got < n) {
                int r = readAt(got, n - got);
                if (r < 0) throw new EOFException("end of stream after " + got + " of " + n + " bytes");
                got += r;
            }
        }

        /** Reads up to {@code len} bytes into the buffer at {@code offset}; -1 at end of stream. */
        int readAt(int offset, int len) throws IOException;

        /**
         * Ends the stream for the other end: a half-close where the peer supports it, else a close
         * (after which this connection must not be used).
         */
        void shutdownOutput() throws IOException;
    }
}

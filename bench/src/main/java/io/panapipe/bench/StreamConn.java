package io.panapipe.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/** A {@link Transport.Conn} over a {@link Socket}'s streams with one {@code byte[]} (junixsocket, ipcsocket). */
final class StreamConn implements Transport.Conn {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buf;

    StreamConn(Socket socket, int bufferSize) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.buf = new byte[Math.max(1, bufferSize)];
    }

    @Override public void writeFully(int n) throws IOException { out.write(buf, 0, n); }

    @Override public int read(int max) throws IOException { return in.read(buf, 0, Math.min(max, buf.length)); }

    @Override public int readAt(int offset, int len) throws IOException { return in.read(buf, offset, len); }

    @Override public void shutdownOutput() throws IOException { socket.shutdownOutput(); }

    @Override public void close() throws IOException { socket.close(); }
}

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

    /**
     * Half-closes if the peer can; junixsocket 2.11.1's {@code AFUNIXSocket.shutdownOutput()} throws
     * "Socket is not connected" on a connected socket, so then the whole socket is closed, which
     * the other end sees as the same end of stream.
     */
    @Override public void shutdownOutput() throws IOException {
        try {
            socket.shutdownOutput();
        } catch (java.net.SocketException e) {
            socket.close();
        }
    }

    @Override public void close() throws IOException { socket.close(); }
}

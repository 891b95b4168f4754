package io.panapipe.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** The JDK's own blocking {@link SocketChannel} over AF_UNIX ({@link UnixDomainSocketAddress}), direct buffers. */
final class JdkNioTransport implements Transport {

    @Override public String name() { return "jdk-nio"; }

    @Override public Server bind(Path path) throws IOException {
        ServerSocketChannel ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        ssc.bind(UnixDomainSocketAddress.of(path), 4096);
        return new Server() {
            @Override public Conn accept(int bufferSize) throws IOException { return new ChannelConn(ssc.accept(), bufferSize); }
            @Override public void close() throws IOException { ssc.close(); }
        };
    }

    @Override public Conn connect(Path path, int bufferSize) throws IOException {
        return new ChannelConn(SocketChannel.open(UnixDomainSocketAddress.of(path)), bufferSize);
    }

    /** Any blocking {@link SocketChannel} with one direct buffer; junixsocket's channel reuses it. */
    static final class ChannelConn implements Conn {
        private final SocketChannel ch;
        private final ByteBuffer buf;

        ChannelConn(SocketChannel ch, int bufferSize) {
            this.ch = ch;
            this.buf = ByteBuffer.allocateDirect(Math.max(1, bufferSize));
        }

        @Override public void writeFully(int n) throws IOException {
            buf.clear().limit(n);
            while (buf.hasRemaining()) ch.write(buf);
        }

        @Override public int read(int max) throws IOException {
            buf.clear().limit(Math.min(max, buf.capacity()));
            return ch.read(buf);
        }

        @Override public int readAt(int offset, int len) throws IOException {
            buf.limit(offset + len).position(offset);
            return ch.read(buf);
        }

        @Override public void shutdownOutput() throws IOException { ch.shutdownOutput(); }

        @Override public void close() throws IOException { ch.close(); }
    }
}

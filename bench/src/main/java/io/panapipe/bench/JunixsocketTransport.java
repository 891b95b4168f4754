package io.panapipe.bench;

import java.io.IOException;
import java.nio.file.Path;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/** junixsocket (JNI): {@code AFUNIXSocket} streams, or {@code AFUNIXSocketChannel} with direct buffers. */
final class JunixsocketTransport implements Transport {
    private final boolean channel;

    JunixsocketTransport(boolean channel) { this.channel = channel; }

    @Override public String name() { return channel ? "junixsocket-channel" : "junixsocket"; }

    @Override public Server bind(Path path) throws IOException {
        AFUNIXSocketAddress addr = AFUNIXSocketAddress.of(path);
        if (channel) {
            AFUNIXServerSocketChannel ssc = AFUNIXServerSocketChannel.open();
            ssc.bind(addr, 4096);
            return new Server() {
                @Override public Conn accept(int bufferSize) throws IOException {
                    return new JdkNioTransport.ChannelConn(ssc.accept(), bufferSize);
                }
                @Override public void close() throws IOException { ssc.close(); }
            };
        }
        AFUNIXServerSocket ss = AFUNIXServerSocket.newInstance();
        ss.bind(addr, 4096);
        return new Server() {
            @Override public Conn accept(int bufferSize) throws IOException { return new StreamConn(ss.accept(), bufferSize); }
            @Override public void close() throws IOException { ss.close(); }
        };
    }

    @Override public Conn connect(Path path, int bufferSize) throws IOException {
        AFUNIXSocketAddress addr = AFUNIXSocketAddress.of(path);
        if (channel) return new JdkNioTransport.ChannelConn(AFUNIXSocketChannel.open(addr), bufferSize);
        return new StreamConn(AFUNIXSocket.connectTo(addr), bufferSize);
    }
}

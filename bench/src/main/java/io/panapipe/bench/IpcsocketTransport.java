package io.panapipe.bench;

import java.io.IOException;
import java.nio.file.Path;
import org.scalasbt.ipcsocket.UnixDomainServerSocket;
import org.scalasbt.ipcsocket.UnixDomainSocket;

/**
 * sbt ipcsocket's {@code UnixDomainSocket}/{@code UnixDomainServerSocket}: the JNA flavour or the JNI
 * flavour (the {@code useJNI} constructor flag). Both block in a native {@code read}, which pins a
 * virtual thread's carrier.
 */
final class IpcsocketTransport implements Transport {
    private final boolean jni;

    IpcsocketTransport(boolean jni) { this.jni = jni; }

    @Override public String name() { return jni ? "ipcsocket-jni" : "ipcsocket-jna"; }

    @Override public Server bind(Path path) throws IOException {
        UnixDomainServerSocket ss = new UnixDomainServerSocket(4096, path.toString(), jni);
        return new Server() {
            @Override public Conn accept(int bufferSize) throws IOException { return new StreamConn(ss.accept(), bufferSize); }
            @Override public void close() throws IOException { ss.close(); }
        };
    }

    @Override public Conn connect(Path path, int bufferSize) throws IOException {
        return new StreamConn(new UnixDomainSocket(path.toString(), jni), bufferSize);
    }
}

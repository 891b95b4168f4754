package io.panapipe.net;

import io.panapipe.PipeName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The java.net adapters over real pipes (the engine auto-selection picks, and the nio fallback in
 * its own surefire execution): a PipeServerSocket on one end, sockets from PipeSocketFactory on the
 * other, as a JDBC driver or an HTTP client would use them.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PipeSocketTest {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private PipeName name;
    private PipeServerSocket server;
    /** Server-side sockets, in the order they were accepted. */
    private final BlockingQueue<Socket> accepted = new ArrayBlockingQueue<>(16);
    private Thread acceptor;

    @BeforeEach
    void bind() throws IOException {
        name = PipeName.of("net-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
        server = new PipeServerSocket(name);
        acceptor = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    accepted.add(server.accept());
                }
            } catch (IOException e) {
                // closed
            }
        });
    }

    @AfterEach
    void close() throws Exception {
        server.close();
        acceptor.join(5_000);
        for (Socket s : accepted) {
            s.close();
        }
    }

    private Socket serverSide() throws InterruptedException {
        Socket s = accepted.poll(10, TimeUnit.SECONDS);
        assertNotNull(s, "the server accepted no connection within 10 s");
        return s;
    }

    /** A client socket from the String constructor, connected the way JDBC drivers and OkHttp do it. */
    private Socket client() throws IOException {
        SocketFactory factory = new PipeSocketFactory(name.logicalName());
        Socket s = factory.createSocket();
        assertFalse(s.isConnected());
        s.connect(new InetSocketAddress("localhost", 5432), 2_000);   // resolved address: ignored
        return s;
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length, "end of stream after " + b.length + " of " + n + " bytes");
        return b;
    }

    @Test
    void echoThroughFactorySocketIgnoringTheInetAddress() throws Exception {
        try (Socket c = client()) {
            Socket s = serverSide();
            assertTrue(c.isConnected());
            assertEquals(5432, c.getPort());
            assertEquals(PipeSocketAddress.of(name), c.getRemoteSocketAddress());
            byte[] hello = "hello over a pipe".getBytes(StandardCharsets.UTF_8);
            c.getOutputStream().write(hello);
            c.getOutputStream().flush();
            byte[] got = readExactly(s.getInputStream(), hello.length);
            assertArrayEquals(hello, got);
            s.getOutputStream().write(got);
            assertArrayEquals(hello, readExactly(c.getInputStream(), hello.length));
            // single-byte calls too
            s.getOutputStream().write(0xfe);
            assertEquals(0xfe, c.getInputStream().read());
        }
    }

    @Test
    void soTimeoutThrowsSocketTimeoutExceptionAndTheSocketStaysUsable() throws Exception {
        try (Socket c = client()) {
            Socket s = serverSide();
            c.setSoTimeout(100);
            assertEquals(100, c.getSoTimeout());
            InputStream in = c.getInputStream();
            long t0 = System.nanoTime();
            SocketTimeoutException e = assertThrows(SocketTimeoutException.class, in::read);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 90 && ms < 5_000, "timed out after " + ms + " ms");
            assertNotNull(e.getMessage());
            // the health check OkHttp's pool makes: a 1 ms read on an idle connection times out...
            c.setSoTimeout(1);
            assertThrows(SocketTimeoutException.class, () -> in.read(new byte[16]));
            assertFalse(c.isClosed());
            // ...and the connection still carries data both ways afterwards
            c.setSoTimeout(5_000);
            s.getOutputStream().write(new byte[] {1, 2, 3});
            assertArrayEquals(new byte[] {1, 2, 3}, readExactly(in, 3));
            c.getOutputStream().write(new byte[] {4});
            assertEquals(4, s.getInputStream().read());
        }
    }

    @Test
    void availableLooksAheadWithoutBlockingOrLosingData() throws Exception {
        try (Socket c = client()) {
            Socket s = serverSide();
            InputStream in = c.getInputStream();
            long t0 = System.nanoTime();
            assertEquals(0, in.available());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "available() blocked");
            s.getOutputStream().write("abcdef".getBytes(StandardCharsets.US_ASCII));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            int avail = 0;
            while (avail < 6 && System.nanoTime() < deadline) {
                avail = in.available();
                if (avail < 6) {
                    Thread.sleep(5);
                }
            }
            // bytes may arrive in pieces: whatever available() reports must then be readable at once
            assertTrue(avail > 0, "available() never saw the 6 bytes");
            byte[] first = new byte[avail];
            assertEquals(avail, in.read(first));
            byte[] rest = readExactly(in, 6 - avail);
            String all = new String(first, StandardCharsets.US_ASCII) + new String(rest, StandardCharsets.US_ASCII);
            assertEquals("abcdef", all);
            assertEquals(0, in.available());
        }
    }

    @Test
    void endOfStreamWhenThePeerCloses() throws Exception {
        try (Socket c = client()) {
            Socket s = serverSide();
            s.getOutputStream().write(7);
            s.close();
            InputStream in = c.getInputStream();
            assertEquals(7, in.read());
            assertEquals(-1, in.read());
            assertEquals(-1, in.read(new byte[4]));
            assertEquals(0, in.available());
        }
    }

    @Test
    void shutdownInputEndsReadsLocally() throws Exception {
        try (Socket c = client()) {
            Socket s = serverSide();
            c.getOutputStream().write(9);
            assertEquals(9, s.getInputStream().read());

            c.shutdownInput();
            assertTrue(c.isInputShutdown());
            assertEquals(-1, c.getInputStream().read());
            assertThrows(SocketException.class, c::shutdownInput);
            // output still works after the input was shut down
            c.getOutputStream().write(10);
            assertEquals(10, s.getInputStream().read());
        }
    }

    @Test
    void shutdownOutputHalfClosesOnUnixAndIsRefusedOnWindows() throws Exception {
        try (Socket c = client()) {
            Socket s = serverSide();
            c.getOutputStream().write(new byte[] {1, 2, 3});
            if (System.getProperty("os.name").startsWith("Windows")) {
                assertThrows(SocketException.class, c::shutdownOutput);
                assertFalse(c.isOutputShutdown());
                c.getOutputStream().write(4); // still usable
                assertEquals(1, s.getInputStream().read());
                return;
            }
            c.shutdownOutput();
            assertTrue(c.isOutputShutdown());
            assertThrows(SocketException.class, c::shutdownOutput);
            assertThrows(SocketException.class, () -> c.getOutputStream().write(4));
            // The peer reads what was sent, then end of stream...
            byte[] got = s.getInputStream().readAllBytes();
            assertArrayEquals(new byte[] {1, 2, 3}, got);
            // ...and can still answer: this end reads on after its half-close.
            s.getOutputStream().write(new byte[] {7, 8});
            s.close();
            assertArrayEquals(new byte[] {7, 8}, c.getInputStream().readAllBytes());
        }
    }

    @Test
    void closeFromAnotherThreadWakesABlockedRead() throws Exception {
        Socket c = client();
        serverSide();
        InputStream in = c.getInputStream();
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(200);
                c.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        IOException e = assertThrows(IOException.class, in::read);
        assertInstanceOf(SocketException.class, e, e.toString());
        closer.join(5_000);
        assertTrue(c.isClosed());
        assertThrows(SocketException.class, c::getInputStream);
        c.close();   // idempotent
    }

    @Test
    void noServerIsConnectException() throws Exception {
        PipeName nobody = PipeName.of("net-nobody-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
        Socket c = new PipeSocketFactory(nobody).createSocket();
        assertThrows(ConnectException.class, () -> c.connect(new InetSocketAddress("localhost", 80), 1_000));
        assertThrows(ConnectException.class, () -> new PipeSocketFactory(nobody).createSocket("localhost", 80));
        c.close();
    }

    @Test
    void acceptTimeoutIsSocketTimeoutExceptionAndTheServerStaysUsable() throws Exception {
        PipeName other = PipeName.of("net-acc-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
        try (ServerSocket ss = new PipeServerSocket(other)) {
            ss.setSoTimeout(100);
            assertThrows(SocketTimeoutException.class, ss::accept);
            assertEquals(PipeSocketAddress.of(other), ss.getLocalSocketAddress());
            try (Socket c = new PipeSocketFactory(other).createSocket("ignored", 1);
                 Socket s = ss.accept()) {
                c.getOutputStream().write(42);
                assertEquals(42, s.getInputStream().read());
            }
        }
    }

    @Test
    void closeWakesABlockedAccept() throws Exception {
        PipeName other = PipeName.of("net-close-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
        ServerSocket ss = new PipeServerSocket(other);
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(200);
                ss.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThrows(SocketException.class, ss::accept);
        closer.join(5_000);
        assertTrue(ss.isClosed());
    }

    @Test
    void noArgConstructorReadsTheSystemProperty() throws Exception {
        String old = System.getProperty(PipeSocketFactory.ADDRESS_PROPERTY);
        try {
            System.clearProperty(PipeSocketFactory.ADDRESS_PROPERTY);
            assertThrows(IllegalStateException.class, PipeSocketFactory::new);
            System.setProperty(PipeSocketFactory.ADDRESS_PROPERTY, name.logicalName());
            try (Socket c = new PipeSocketFactory().createSocket("db.example", 5432)) {
                Socket s = serverSide();
                c.getOutputStream().write(5);
                assertEquals(5, s.getInputStream().read());
            }
        } finally {
            if (old == null) {
                System.clearProperty(PipeSocketFactory.ADDRESS_PROPERTY);
            } else {
                System.setProperty(PipeSocketFactory.ADDRESS_PROPERTY, old);
            }
        }
    }

    @Test
    void pipeSocketAddressParsesTheThreeForms() {
        assertEquals(PipeName.of("svc"), PipeSocketAddress.parse("svc").name());
        assertEquals(PipeName.ofSocketPath(Path.of("/tmp/x.sock")), PipeSocketAddress.parse("/tmp/x.sock").name());
        assertEquals(PipeName.ofWindowsPath("\\\\.\\pipe\\docker_engine"),
                PipeSocketAddress.parse("\\\\.\\pipe\\docker_engine").name());
        assertThrows(IllegalArgumentException.class, () -> PipeSocketAddress.parse(" "));
        assertEquals(PipeSocketAddress.parse("svc"), PipeSocketAddress.of(PipeName.of("svc")));
    }

    @Test
    void socketWithoutTargetNeedsAPipeSocketAddress() throws Exception {
        try (Socket c = new PipeSocket()) {
            assertThrows(IllegalArgumentException.class, () -> c.connect(new InetSocketAddress("localhost", 1)));
            c.connect(PipeSocketAddress.of(name));
            serverSide();
            assertTrue(c.isConnected());
            assertNull(c.getChannel());
            assertThrows(SocketException.class, () -> c.connect(PipeSocketAddress.of(name)));
        }
    }

    @Test
    void tcpOptionsAreRememberedAndHarmless() throws Exception {
        try (Socket c = client()) {
            serverSide();
            c.setTcpNoDelay(true);
            c.setKeepAlive(true);
            c.setSoLinger(true, 5);
            c.setReceiveBufferSize(1 << 16);
            c.setSendBufferSize(1 << 16);
            assertTrue(c.getTcpNoDelay());
            assertTrue(c.getKeepAlive());
            assertEquals(5, c.getSoLinger());
            assertTrue(c.supportedOptions().isEmpty());
        }
    }
}

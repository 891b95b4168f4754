package io.panapipe.contract;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Run as another user by {@link UnixSecurityTest}: listens on {@code args[0]} (mode 0777, in a
 * directory it made world-writable when it created it), answers every client with "gotcha" and
 * appends what it received to {@code args[0] + ".got"}. Exits by itself after 60 s.
 * With {@code args[1] == "dead"} it binds, closes and exits, leaving a dead socket file behind.
 */
public final class Squatter {
    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        Path dir = path.getParent();
        if (!Files.exists(dir)) {
            Files.createDirectory(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxrwxrwx"));
        if (args.length > 1 && args[1].equals("dead")) {
            server.close();
            System.out.println("ready");
            return;
        }
        System.out.println("ready");
        System.out.flush();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException ignored) {
            }
            System.exit(0);
        });
        Path got = Path.of(args[0] + ".got");
        for (;;) {
            SocketChannel c = server.accept();
            Thread.ofVirtual().start(() -> {
                try (c) {
                    c.write(ByteBuffer.wrap("gotcha".getBytes()));
                    ByteBuffer b = ByteBuffer.allocate(1024);
                    while (c.read(b) > 0) {
                        b.flip();
                        byte[] bytes = new byte[b.remaining()];
                        b.get(bytes);
                        Files.write(got, bytes, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                        b.clear();
                    }
                } catch (Exception ignored) {
                }
            });
        }
    }
}

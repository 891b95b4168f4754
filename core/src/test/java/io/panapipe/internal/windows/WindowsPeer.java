package io.panapipe.internal.windows;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeName;
import io.panapipe.PipeServer;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;

/**
 * Run in a child JVM by {@link IocpWindowsReviewTest} (Windows only): {@code client <pipe path>}
 * connects and writes 1 KiB chunks until it is killed; {@code server <pipe path>} binds, accepts one
 * client and echoes it until end of stream. Each prints {@code ready <pid>} once it can be used.
 */
public final class WindowsPeer {
    private WindowsPeer() {
    }

    public static void main(String[] args) throws Exception {
        PipeName name = PipeName.ofWindowsPath(args[1]);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // never outlive the test
        if (args[0].equals("client")) {
            try (Pipe pipe = PipeClient.connect(name, Duration.ofSeconds(10))) {
                System.out.println("ready " + ProcessHandle.current().pid());
                System.out.flush();
                OutputStream out = pipe.outputStream();
                byte[] chunk = new byte[1024];
                while (System.nanoTime() < deadline) {
                    out.write(chunk);
                    Thread.sleep(1);
                }
            }
            return;
        }
        try (PipeServer server = PipeServer.bind(name)) {
            System.out.println("ready " + ProcessHandle.current().pid());
            System.out.flush();
            try (Pipe pipe = server.accept(Duration.ofSeconds(30))) {
                InputStream in = pipe.inputStream();
                OutputStream out = pipe.outputStream();
                byte[] buf = new byte[4096];
                for (int n; (n = in.read(buf)) >= 0 && System.nanoTime() < deadline; ) {
                    out.write(buf, 0, n);
                }
            }
        }
    }
}

package io.panapipe.contract;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeName;

import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;

/** Run in a separate JVM by {@link CrossProcessTest}: connects and writes until it is killed. */
public final class ChildClient {
    public static void main(String[] args) throws Exception {
        PipeName name = PipeName.ofSocketPath(Path.of(args[0]));
        try (Pipe pipe = PipeClient.connect(name, Duration.ofSeconds(10))) {
            System.out.println("connected " + ProcessHandle.current().pid());
            System.out.flush();
            OutputStream out = pipe.outputStream();
            byte[] chunk = new byte[1024];
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // never outlive the test
            while (System.nanoTime() < deadline) {
                out.write(chunk);
                Thread.sleep(1);
            }
        }
    }
}

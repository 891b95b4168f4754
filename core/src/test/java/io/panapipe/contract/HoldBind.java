package io.panapipe.contract;

import io.panapipe.PipeName;
import io.panapipe.PipeServer;

import java.nio.file.Path;

/** Run by {@link UnixSecurityTest} in another process: binds {@code args[0]}, says so, and holds it until killed (60 s at most). */
public final class HoldBind {
    public static void main(String[] args) throws Exception {
        try (PipeServer server = PipeServer.bind(PipeName.ofSocketPath(Path.of(args[0])))) {
            System.out.println("ready");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }
}

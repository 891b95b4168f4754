package io.panapipe.contract;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeServer;

import java.nio.file.Path;

/** Run as another user by {@link UnixSecurityTest}: binds {@code args[0]} and prints what happened. */
public final class TryBind {
    public static void main(String[] args) {
        System.out.println("ready");
        try (PipeServer server = PipeServer.bind(PipeName.ofSocketPath(Path.of(args[0])))) {
            System.out.println("bound " + server);
        } catch (PipeException e) {
            System.out.println("PipeException " + e.symbolicName() + " " + e.getMessage());
        } catch (Throwable t) {
            System.out.println("other " + t);
        }
    }
}

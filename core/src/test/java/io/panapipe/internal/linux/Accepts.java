package io.panapipe.internal.linux;

import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Test helper: accepts on a server endpoint inside its gate, as {@code PipeServer} does. */
final class Accepts {
    private Accepts() {
    }

    /** One accept, waiting at most {@code timeoutNanos} (-1: no limit). */
    static Transport once(ServerEndpoint server, long timeoutNanos) throws IOException {
        server.gate().enter();
        try {
            return server.accept(timeoutNanos);
        } finally {
            server.gate().exit();
        }
    }

    /** One accept of up to 10 s on another thread, started now; fails with the accept's exception. */
    static CompletableFuture<Transport> async(ServerEndpoint server) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return once(server, TimeUnit.SECONDS.toNanos(10));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}

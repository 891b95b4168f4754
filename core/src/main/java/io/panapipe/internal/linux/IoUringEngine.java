package io.panapipe.internal.linux;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.Engine;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;

import java.io.IOException;

/** PLACEHOLDER until the io_uring engine lands. */
public final class IoUringEngine implements Engine {
    public static String unavailableReason() {
        return "the io_uring engine is not built yet";
    }

    public static IoUringEngine instance() {
        throw new IllegalStateException(unavailableReason());
    }

    @Override public String name() { return "io_uring"; }
    @Override public ServerEndpoint bind(PipeName name, PipeOptions options) throws IOException { throw new UnsupportedOperationException(); }
    @Override public Transport connect(PipeName name, PipeOptions options) throws IOException { throw new UnsupportedOperationException(); }
    @Override public boolean isBusy(PipeException e) { return false; }
    @Override public boolean isAbsent(PipeException e) { return false; }
}

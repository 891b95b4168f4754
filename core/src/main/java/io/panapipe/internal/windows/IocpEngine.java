package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.Engine;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;

import java.io.IOException;

/** PLACEHOLDER until the IOCP engine lands. */
public final class IocpEngine implements Engine {
    public static String unavailableReason() {
        return "the IOCP engine is not built yet";
    }

    public static IocpEngine instance() {
        throw new IllegalStateException(unavailableReason());
    }

    @Override public String name() { return "iocp"; }
    @Override public ServerEndpoint bind(PipeName name, PipeOptions options) throws IOException { throw new UnsupportedOperationException(); }
    @Override public Transport connect(PipeName name, PipeOptions options) throws IOException { throw new UnsupportedOperationException(); }
    @Override public boolean isBusy(PipeException e) { return false; }
    @Override public boolean isAbsent(PipeException e) { return false; }
}

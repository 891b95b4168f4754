package io.panapipe.internal;

import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.completion.IoGate;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Finds out what an engine can do by asking it: a throw-away server on a fresh logical name, in
 * MESSAGE mode (does {@code bind} accept it?) and in BYTE mode with one connection (does
 * {@code peerProcessId} answer?). Used by {@link Engine}'s default capability methods, so an
 * engine that does not declare its capabilities is still described truthfully. Each answer is
 * found once per engine and kept.
 */
final class EngineProbe {
    private static final Duration ACCEPT_LIMIT = Duration.ofSeconds(5);
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final ConcurrentMap<String, Boolean> ANSWERS = new ConcurrentHashMap<>();

    private EngineProbe() {
    }

    static boolean messageMode(Engine engine) {
        return ANSWERS.computeIfAbsent(engine.name() + "/message", k -> probeMessageMode(engine));
    }

    static boolean peerProcessId(Engine engine) {
        return ANSWERS.computeIfAbsent(engine.name() + "/peer-pid", k -> probePeerProcessId(engine));
    }

    private static PipeName freshName(String what) {
        return PipeName.of("probe-" + ProcessHandle.current().pid() + "-" + what + "-" + COUNTER.incrementAndGet());
    }

    private static boolean probeMessageMode(Engine engine) {
        ServerEndpoint server;
        try {
            server = engine.bind(freshName("msg"), PipeOptions.defaults().withMode(PipeMode.MESSAGE));
        } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
            return false;
        }
        release(server.gate(), server::wakeAll, server::release);
        return true;
    }

    private static boolean probePeerProcessId(Engine engine) {
        PipeName name = freshName("pid");
        PipeOptions options = PipeOptions.defaults();
        ServerEndpoint server;
        try {
            server = engine.bind(name, options);
        } catch (IOException | RuntimeException e) {
            return false;
        }
        Transport client = null;
        Transport accepted = null;
        try {
            client = engine.connect(name, options);
            IoGate gate = server.gate();
            gate.enter();
            try {
                accepted = server.accept(ACCEPT_LIMIT.toNanos());
            } finally {
                gate.exit();
            }
            Transport t = accepted;
            t.gate().enter();
            try {
                return t.peerProcessId() == ProcessHandle.current().pid();
            } finally {
                t.gate().exit();
            }
        } catch (IOException | RuntimeException e) {
            return false;
        } finally {
            if (accepted != null) {
                Transport t = accepted;
                release(t.gate(), t::wakeAll, t::release);
            }
            if (client != null) {
                Transport t = client;
                release(t.gate(), t::wakeAll, t::release);
            }
            release(server.gate(), server::wakeAll, server::release);
        }
    }

    private interface Release {
        void run() throws IOException;
    }

    /** The close protocol of PipeServer and PipeChannel: start closing, wake, wait until idle, release. */
    private static void release(IoGate gate, Runnable wake, Release release) {
        if (!gate.startClose()) {
            return;
        }
        wake.run();
        gate.awaitIdle();
        try {
            release.run();
        } catch (IOException e) {
            // a probe's handle: nothing more to do
        }
    }
}

package io.panapipe.engine;

import io.panapipe.PipeEngine;

/** Run in a child JVM by {@link PipeEngineTest}: prints what PipeEngine.current() says, or what it throws. */
public final class EngineChoiceChild {
    private EngineChoiceChild() {
    }

    public static void main(String[] args) {
        for (int i = 0; i < 2; i++) {   // twice: the second call must fail the same way, not with NoClassDefFoundError
            try {
                PipeEngine e = PipeEngine.current();
                System.out.println("engine=" + e.name() + " message=" + e.supportsMessageMode()
                        + " fallback=" + e.fallbackReason().orElse("-"));
            } catch (Throwable t) {
                System.out.println("threw " + t.getClass().getName() + ": " + t.getMessage());
            }
        }
    }
}

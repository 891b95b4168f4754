package io.panapipe.internal.windows;

/**
 * The IOCP engine over the {@link WindowsModel} — test code, selected in Panapipe's own test
 * suite with {@code -Dpanapipe.engine=windows-model} (see {@link IocpEngine#windowsModelForTests()})
 * or used directly by the Windows-model tests. Its name says "Windows model" so that no report
 * mistakes a model run for a Windows run.
 */
final class WindowsModelEngine {
    static final String NAME = "iocp (Windows model)";

    private static IocpEngine engine;
    private static WindowsModel model;

    private WindowsModelEngine() {
    }

    /** The JVM-wide engine on the model (one model: every pipe of the test JVM lives in it). */
    static synchronized IocpEngine instance() throws Exception {
        if (engine == null) {
            model = new WindowsModel();
            engine = new IocpEngine(1, model, NAME);
        }
        return engine;
    }

    /** The model behind {@link #instance()}. */
    static synchronized WindowsModel model() throws Exception {
        instance();
        return model;
    }
}

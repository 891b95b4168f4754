/**
 * Panapipe: Windows named pipes and Unix domain sockets on the Foreign Function and Memory API.
 * The public API is the package {@code io.panapipe}; everything under {@code io.panapipe.internal}
 * is implementation.
 */
module io.panapipe.core {
    requires io.panapipe.bindings;
    requires jdk.net;
    exports io.panapipe;
    exports io.panapipe.net;
    exports io.panapipe.windows;
}

/**
 * The Windows engine: named pipes on an I/O completion port, over the generated kernel32/advapi32
 * bindings. One concern a class:
 * <ul>
 *   <li>{@link io.panapipe.internal.windows.OverlappedIo} — every overlapped rule (issue, inline
 *       success, wait, cancel with {@code CancelIoEx}, collect), the only place requests are made;</li>
 *   <li>{@link io.panapipe.internal.windows.OverlappedSlot} — the OVERLAPPED + operation id memory;</li>
 *   <li>{@link io.panapipe.internal.windows.IocpPort}, {@link io.panapipe.internal.windows.IocpPoller}
 *       — the port and the platform threads that dequeue it;</li>
 *   <li>{@link io.panapipe.internal.windows.NamedPipeServer},
 *       {@link io.panapipe.internal.windows.NamedPipeClient},
 *       {@link io.panapipe.internal.windows.NamedPipeTransport} — what is specific to pipes;</li>
 *   <li>{@link io.panapipe.internal.windows.PipeSecurity} — security descriptors and identities;</li>
 *   <li>{@link io.panapipe.internal.windows.PipeFlags}, {@link io.panapipe.internal.windows.WinError}
 *       — pure functions (flag words, error classification), tested on every platform;</li>
 *   <li>{@link io.panapipe.internal.windows.Win32Api} — the kernel boundary: every call the engine
 *       makes; {@link io.panapipe.internal.windows.Win32Calls} implements it with the downcall
 *       handles, {@code GetLastError} captured by the linker. Panapipe's tests also run the engine
 *       over a <em>Windows model</em> (test sources only) that implements it on any OS.</li>
 * </ul>
 */
package io.panapipe.internal.windows;

/**
 * Windows-only low-level helpers for people porting C code: {@link io.panapipe.windows.Overlapped}
 * (an OVERLAPPED with its event, for the event-based samples) and
 * {@link io.panapipe.windows.IocpHandle} (drive your own overlapped handle, e.g. a Winsock socket,
 * with Panapipe's completion port).
 */
package io.panapipe.windows;

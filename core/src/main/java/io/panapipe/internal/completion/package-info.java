/**
 * The platform-neutral heart of Panapipe: pre-allocated operation slots and the one protocol
 * every blocking call follows, whichever engine (io_uring, IOCP, NIO readiness) completes it.
 *
 * <h2>The rules kept here</h2>
 * <ol>
 *   <li>Once an operation is submitted, its completion always comes, and the slot and its buffer
 *       belong to the kernel until then ({@link io.panapipe.internal.completion.Operation}).</li>
 *   <li>Timeout, interrupt and close take one path: the waiting thread cancels its own operation,
 *       then waits for the completion; bytes that completed anyway are delivered
 *       ({@link io.panapipe.internal.completion.Operation#await}).</li>
 *   <li>Close marks the channel closing, wakes every waiter (each cancels its own operation) and
 *       waits until no operation is active before the handle is closed
 *       ({@link io.panapipe.internal.completion.IoGate}).</li>
 *   <li>Waiting is {@code LockSupport.park}: virtual threads unmount, platform threads block, and no
 *       blocking native call is ever made on a virtual thread. Only engine poller threads (platform
 *       threads) block in the kernel.</li>
 * </ol>
 */
package io.panapipe.internal.completion;

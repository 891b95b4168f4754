package io.panapipe.internal.nio;

import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One platform thread blocked in {@link Selector#select()}: it completes an {@link Operation}
 * when its channel becomes ready (result 0) or when the operation is cancelled (result -1).
 * All completions happen on this thread, so an operation completes exactly once.
 */
final class ReadinessPoller implements Runnable {
    /** Interest registered on a channel: which operation waits for which readiness. */
    static final class Interest {
        final SelectableChannel channel;
        SelectionKey key;                 // poller thread only
        volatile Operation readOp;        // waiting for OP_READ or OP_ACCEPT
        volatile Operation writeOp;       // waiting for OP_WRITE
        final int readKind;
        /** Whether a wait ever went through the poller: only then is there anything to deregister. */
        volatile boolean used;

        Interest(SelectableChannel channel, int readKind) {
            this.channel = channel;
            this.readKind = readKind;
        }
    }

    private record Request(Interest interest, Operation op, int kind, boolean cancel) {
    }

    private final Selector selector;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();

    ReadinessPoller() {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector for the nio engine", e);
        }
        Thread t = Thread.ofPlatform().daemon().name("panapipe-nio-poller").unstarted(this);
        t.start();
    }

    /** Completes {@code op} when the interest's channel is ready for {@code kind}; {@code op} must be armed. */
    void await(Interest interest, Operation op, int kind) {
        interest.used = true;
        requests.add(new Request(interest, op, kind, false));
        selector.wakeup();
    }

    /** Cancels a pending wait: the operation completes with -1, unless readiness came first. */
    void cancel(Interest interest, Operation op) {
        requests.add(new Request(interest, op, 0, true));
        selector.wakeup();
    }

    /**
     * Forgets a channel that is about to be closed; its operations must already be complete. A
     * channel that never waited here costs nothing (no wake-up of the poller thread per close).
     */
    void deregister(Interest interest) {
        if (!interest.used) {
            return;
        }
        requests.add(new Request(interest, null, 0, true));
        selector.wakeup();
    }

    @Override
    public void run() {
        for (;;) {
            try {
                selector.select(this::ready);
                drainRequests();
            } catch (IOException | RuntimeException e) {
                // keep serving the other channels; a broken channel's waiter sees the error on retry
                failAll();
            }
        }
    }

    private void drainRequests() throws IOException {
        Request r;
        while ((r = requests.poll()) != null) {
            Interest in = r.interest;
            if (r.cancel) {
                if (r.op == null) {
                    if (in.key != null) {
                        in.key.cancel();
                    }
                    continue;
                }
                if (in.readOp == r.op) {
                    in.readOp = null;
                    r.op.complete(-1, 0);
                } else if (in.writeOp == r.op) {
                    in.writeOp = null;
                    r.op.complete(-1, 0);
                }
                updateInterest(in);
                continue;
            }
            if (r.kind == SelectionKey.OP_WRITE) {
                in.writeOp = r.op;
            } else {
                in.readOp = r.op;
            }
            if (in.key == null) {
                in.key = in.channel.register(selector, 0, in);
            }
            updateInterest(in);
        }
    }

    private void updateInterest(Interest in) {
        if (in.key == null || !in.key.isValid()) {
            return;
        }
        int ops = (in.readOp != null ? in.readKind : 0) | (in.writeOp != null ? SelectionKey.OP_WRITE : 0);
        in.key.interestOps(ops);
    }

    private void ready(SelectionKey key) {
        Interest in = (Interest) key.attachment();
        try {
            int ready = key.readyOps();
            if ((ready & in.readKind) != 0 && in.readOp != null) {
                Operation op = in.readOp;
                in.readOp = null;
                op.complete(0, 0);
            }
            if ((ready & SelectionKey.OP_WRITE) != 0 && in.writeOp != null) {
                Operation op = in.writeOp;
                in.writeOp = null;
                op.complete(0, 0);
            }
            updateInterest(in);
        } catch (CancelledKeyException e) {
            completeAll(in);
        }
    }

    private void failAll() {
        for (SelectionKey key : selector.keys()) {
            if (key.attachment() instanceof Interest in) {
                completeAll(in);
            }
        }
    }

    private static void completeAll(Interest in) {
        Operation r = in.readOp;
        Operation w = in.writeOp;
        in.readOp = null;
        in.writeOp = null;
        if (r != null) {
            r.complete(0, 0); // the waiter retries its non-blocking call and sees the real error
        }
        if (w != null) {
            w.complete(0, 0);
        }
    }
}

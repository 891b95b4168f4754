package io.panapipe.internal.completion;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Maps the small integer the kernel hands back ({@code user_data}, or the id stored beside an
 * OVERLAPPED) to its {@link Operation}, without allocating on the completion path. Ids of closed
 * connections are reused. Lookups are lock-free: the array is replaced, never mutated in place
 * except for slots no live submission refers to.
 */
public final class OperationTable {
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Operation[] ops = new Operation[64];
    private int[] free = new int[64];
    private int freeCount;
    private int next;

    /**
     * Allocates a fresh slot.
     *
     * @return a new operation registered under a free id
     */
    public Operation allocate() {
        lock.lock();
        try {
            int id;
            if (freeCount > 0) {
                id = free[--freeCount];
            } else {
                id = next++;
                if (id == ops.length) {
                    ops = Arrays.copyOf(ops, ops.length * 2);
                }
            }
            Operation op = new Operation(id);
            Operation[] current = ops;
            current[id] = op;
            ops = current; // volatile write publishes the new entry to the poller
            return op;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns a slot whose last submission has completed; releasing it twice does nothing.
     *
     * @param op the operation to unregister
     * @throws IllegalStateException if its submission has not completed (the kernel owns it)
     */
    public void release(Operation op) {
        if (!op.isDone()) {
            throw new IllegalStateException("operation " + op.id() + " released while the kernel owns it");
        }
        lock.lock();
        try {
            Operation[] current = ops;
            if (current[op.id()] != op) {
                return; // already released
            }
            current[op.id()] = null;
            ops = current;
            if (freeCount == free.length) {
                free = Arrays.copyOf(free, free.length * 2);
            }
            free[freeCount++] = op.id();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The operation with this id, or {@code null} if none is registered (a stale or foreign id).
     *
     * @param id the id the kernel handed back
     * @return the operation, or {@code null}
     */
    public Operation get(long id) {
        Operation[] current = ops;
        return id >= 0 && id < current.length ? current[(int) id] : null;
    }

    /**
     * Calls {@code action} for every registered operation (a failed poller's drain; may allocate).
     *
     * @param action called once per operation in the table
     */
    public void forEach(Consumer<Operation> action) {
        for (Operation op : ops) {
            if (op != null) {
                action.accept(op);
            }
        }
    }

    /**
     * One more than the largest id handed out so far.
     *
     * @return the id limit
     */
    public int idLimit() {
        lock.lock();
        try {
            return next;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Number of slots in use, for leak checks.
     *
     * @return slots allocated and not released
     */
    public int inUse() {
        lock.lock();
        try {
            return next - freeCount;
        } finally {
            lock.unlock();
        }
    }
}

package io.panapipe.internal.linux;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Finds the {@link FdReadiness} an epoll event is for. The event's {@code data} word is a key:
 * table slot in the low 32 bits, the slot's generation in the high 32, so an event still queued
 * for a closed socket (whose slot may already serve another) finds nobody. Lookups are lock-free
 * (the pollers); adding and removing take a lock (once per connection).
 */
final class ReadinessTable {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(FdReadiness[].class);

    private final ReentrantLock lock = new ReentrantLock();
    private volatile FdReadiness[] slots = new FdReadiness[256];
    private int[] generations = new int[256];
    private int[] free = new int[256];
    private int freeCount;
    private int used;

    /** Reserves a slot and returns its key; {@link #publish} then makes the readiness findable. */
    long reserve() {
        lock.lock();
        try {
            int index;
            if (freeCount > 0) {
                index = free[--freeCount];
            } else {
                if (used == slots.length) {
                    grow();
                }
                index = used++;
            }
            int generation = ++generations[index];
            return ((long) generation << 32) | index;
        } finally {
            lock.unlock();
        }
    }

    /** Makes {@code r} (whose key came from {@link #reserve}) findable by pollers. */
    void publish(FdReadiness r) {
        lock.lock(); // against a concurrent grow() copying the array
        try {
            SLOT.setRelease(slots, (int) r.key, r);
        } finally {
            lock.unlock();
        }
    }

    private void grow() {
        int n = slots.length * 2;
        FdReadiness[] bigger = java.util.Arrays.copyOf(slots, n);
        generations = java.util.Arrays.copyOf(generations, n);
        free = java.util.Arrays.copyOf(free, n);
        slots = bigger;
    }

    /** The readiness registered under {@code key}, or {@code null} if it was removed. */
    FdReadiness get(long key) {
        int index = (int) key;
        FdReadiness[] s = slots;
        if (index < 0 || index >= s.length) {
            return null;
        }
        FdReadiness r = (FdReadiness) SLOT.getAcquire(s, index);
        return r != null && r.key == key ? r : null;
    }

    /** Removes the readiness registered under {@code key}. */
    void remove(long key) {
        lock.lock();
        try {
            int index = (int) key;
            if (generations[index] == (int) (key >>> 32)) {
                SLOT.setRelease(slots, index, (FdReadiness) null);
                generations[index]++; // a late publish or event of the old key now finds nothing
                free[freeCount++] = index;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Every registered readiness (to wake all waiters when the engine fails). */
    void forEach(java.util.function.Consumer<FdReadiness> action) {
        FdReadiness[] s = slots;
        for (int i = 0; i < s.length; i++) {
            FdReadiness r = (FdReadiness) SLOT.getAcquire(s, i);
            if (r != null) {
                action.accept(r);
            }
        }
    }
}

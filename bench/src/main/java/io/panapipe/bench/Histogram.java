package io.panapipe.bench;

import java.util.concurrent.atomic.AtomicLongArray;

/** A lock-free latency histogram with logarithmic buckets (about 2% wide), in nanoseconds. */
final class Histogram {
    private static final double PER_E = 50;
    private final AtomicLongArray buckets = new AtomicLongArray(1400);

    void record(long nanos) {
        int i = nanos <= 1 ? 0 : (int) (Math.log(nanos) * PER_E);
        buckets.incrementAndGet(Math.min(i, buckets.length() - 1));
    }

    long count() {
        long n = 0;
        for (int i = 0; i < buckets.length(); i++) n += buckets.get(i);
        return n;
    }

    /** The value at quantile {@code q} (0..1) in nanoseconds; NaN if empty. */
    double quantile(double q) {
        long n = count();
        if (n == 0) return Double.NaN;
        long rank = (long) Math.ceil(q * n);
        long seen = 0;
        for (int i = 0; i < buckets.length(); i++) {
            seen += buckets.get(i);
            if (seen >= rank && seen > 0) return Math.exp((i + 0.5) / PER_E);
        }
        return Math.exp((buckets.length() - 0.5) / PER_E);
    }
}

package org.adanewton.minimizer;

/**
 * Mini-batches drawn without replacement from an epoch-wise permutation of [0, n), reshuffled at
 * each epoch by a SplitMix64 generator whose whole state is one long, so a run can be saved and
 * resumed exactly ({@link #state()} / {@link #restore}). A batch never spans two epochs: the
 * last batch of an epoch may be smaller.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time.
 */
public final class BatchSampler {
    private final int n;
    private final int[] permutation;
    private long seedOfEpoch; // generator state at the start of the current epoch
    private long epoch;
    private int position;
    private long drawn; // samples drawn in total

    /** The state: generator state at the epoch's start, epoch, position in it, samples drawn. */
    public record State(long seedOfEpoch, long epoch, int position, long drawn) {}

    public BatchSampler(int n, long seed) {
        if (n < 1) throw new IllegalArgumentException("dataset size = " + n + "; must be >= 1");
        this.n = n;
        this.permutation = new int[n];
        restore(new State(seed, 0, 0, 0));
    }

    /** Fills indices with the next batch (up to indices.length) and returns its size. */
    public int next(int[] indices, int size) {
        if (size < 1 || size > indices.length) throw new IllegalArgumentException("batch size = " + size + "; must be in [1, " + indices.length + "]");
        if (position == n) {
            seedOfEpoch = shuffleState(seedOfEpoch);
            epoch++;
            shuffle();
            position = 0;
        }
        int count = Math.min(size, n - position);
        System.arraycopy(permutation, position, indices, 0, count);
        position += count;
        drawn += count;
        return count;
    }

    /** Samples drawn so far. */
    public long drawn() {
        return drawn;
    }

    /** Samples drawn so far divided by the dataset size. */
    public double epochs() {
        return (double) drawn / n;
    }

    public State state() {
        return new State(seedOfEpoch, epoch, position, drawn);
    }

    public void restore(State s) {
        if (s.position() < 0 || s.position() > n) throw new IllegalArgumentException("sampler position = " + s.position() + "; must be in [0, " + n + "]");
        seedOfEpoch = s.seedOfEpoch();
        epoch = s.epoch();
        position = s.position();
        drawn = s.drawn();
        shuffle();
    }

    private void shuffle() {
        for (int i = 0; i < n; i++) permutation[i] = i;
        long state = seedOfEpoch;
        for (int i = n - 1; i > 0; i--) {
            state += 0x9E3779B97F4A7C15L;
            int j = (int) Long.remainderUnsigned(mix(state), i + 1);
            int t = permutation[i];
            permutation[i] = permutation[j];
            permutation[j] = t;
        }
    }

    private static long shuffleState(long s) {
        return mix(s + 0x632BE59BD9B4E019L);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

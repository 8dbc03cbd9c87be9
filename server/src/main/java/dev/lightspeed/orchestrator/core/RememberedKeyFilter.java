package dev.lightspeed.orchestrator.core;

import java.util.Arrays;

/**
 * A Bloom filter over the remembered idempotency keys, small enough to stay in the CPU's cache,
 * so that the usual enqueue (a key never seen before) learns "not remembered" without touching the
 * idempotency index, whose random slot is a cache miss once the dedup window holds more than some
 * ten thousand keys.
 *
 * <p>A Bloom filter cannot forget a key, so {@link RememberedBatches} builds it anew from the
 * keys still remembered once as many keys were added since as it was sized for: forgotten keys
 * linger at most that long and only raise the false-positive rate. Each key sets three bits of one
 * 64-bit word (a blocked filter), so a check reads one word. Sized at 10 bits per expected key
 * and built with room for twice the keys remembered at the time, the false-positive rate stays at
 * a few percent; a false positive costs only the index lookup the filter would have saved.
 *
 * <p>Past {@link #MAX_WORDS} (some 3 million keys) the filter itself would no longer fit in a
 * cache and would add a miss instead of saving one, so it turns itself off: every check answers
 * "maybe".
 */
final class RememberedKeyFilter {
  private static final int BITS_PER_KEY = 10;
  private static final int MIN_WORDS = 64;
  /** 4 MB. */
  static final int MAX_WORDS = 1 << 19;

  private long[] words = new long[MIN_WORDS];
  /** Keys this filter was sized for, and keys added since it was (re)built. */
  private long capacity = MIN_WORDS * 64L / BITS_PER_KEY;
  private long added;
  private boolean enabled = true;

  /** Whether a key of mixed hash {@code hash} may have been added; false means certainly not. */
  boolean mightContain(int hash) {
    if (!enabled) {
      return true;
    }
    long x = hash * 0x9E37_79B9_7F4A_7C15L;
    long mask = bits(x);
    return (words[word(x)] & mask) == mask;
  }

  void add(int hash) {
    added++;
    if (enabled) {
      long x = hash * 0x9E37_79B9_7F4A_7C15L;
      words[word(x)] |= bits(x);
    }
  }

  /** Whether more keys were added than the filter was sized for: time to rebuild it. */
  boolean isFull() {
    return added > capacity;
  }

  /** Empties the filter and sizes it for {@code keys} keys (then add them again). */
  void reset(long keys) {
    long wanted = Math.max(MIN_WORDS, keys * BITS_PER_KEY / 64);
    enabled = wanted <= MAX_WORDS;
    capacity = Math.max(keys, MIN_WORDS * 64L / BITS_PER_KEY);
    added = 0;
    if (!enabled) {
      words = new long[0];
    } else if (words.length == wanted) {
      Arrays.fill(words, 0);
    } else {
      words = new long[(int) wanted];
    }
  }

  /** A word index in {@code [0, words.length)} from the top bits (multiply-shift, any length). */
  private int word(long x) {
    return (int) (((x >>> 32) * words.length) >>> 32);
  }

  private static long bits(long x) {
    return (1L << x) | (1L << (x >>> 6)) | (1L << (x >>> 12));
  }

  @Override
  public String toString() {
    return "RememberedKeyFilter[" + (enabled ? words.length * 8L + " bytes" : "off") + ", "
        + added + " of " + capacity + " keys added]";
  }
}

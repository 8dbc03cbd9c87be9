package dev.lightspeed.orchestrator.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The live batches, found by batch key and by idempotency key.
 *
 * <p>Why not two {@code HashMap}s: a {@code HashMap} bucket holds nodes, and telling two keys of
 * one bucket apart means reading the other key's node. With a backlog of a million live batches
 * about 40% of the buckets a new batch lands in already hold an old batch's node, somewhere in a
 * heap of hundreds of MB, and reading it was a cache miss in most enqueues (measured: giving the
 * maps 16M buckets, so that collisions were rare, made the core benchmark 20-25% faster at 1M
 * live batches). Here a table keeps each slot's key hash in an {@code int} array beside the
 * batch references, so a lookup compares hashes without reading any batch, and reads one only
 * when the hash matches. It also allocates nothing per batch (the maps allocated two 32-byte
 * nodes).
 *
 * <p>Slots are chosen as {@code HashMap} chooses buckets (the hash with its high half folded in,
 * masked): keys that differ only in their last characters get neighbouring slots, so a run of
 * such keys reads both arrays as forward streams, which the CPU prefetches (placing keys at
 * random instead was slower: findings, round 3). Open addressing with linear probing, at most a
 * quarter of the slots used, so that such neighbours rarely run into each other; a removal
 * shifts the rest of its run back (no tombstones). A table shrinks again when fewer than a
 * sixteenth of its slots are used, so a drained backlog of a million batches does not keep about
 * 48 MB of empty tables (growing at a quarter and shrinking at a sixteenth leaves room between the
 * two, so a size that goes up and down does not resize each time).
 */
final class LiveBatches {
  private final Table byKey = new Table(false);
  private final Table byIdempotencyKey = new Table(true);

  int size() {
    return byKey.size;
  }

  /** Live idempotency keys: equal to {@link #size} (each live batch answers for its key). */
  int idempotencyKeyCount() {
    return byIdempotencyKey.size;
  }

  /** The live batch with this batch key, or null. */
  LiveBatch get(String key) {
    return byKey.get(key);
  }

  boolean containsKey(String key) {
    return byKey.get(key) != null;
  }

  /** The live batch enqueued with this idempotency key, or null. */
  LiveBatch byIdempotencyKey(String idempotencyKey) {
    return byIdempotencyKey.get(idempotencyKey);
  }

  /** Adds {@code b}; neither its key nor its idempotency key may be live already. */
  void add(LiveBatch b) {
    byKey.put(b.batch.key(), b);
    byIdempotencyKey.put(b.batch.idempotencyKey(), b);
  }

  /** Removes {@code b}, which must be live. */
  void remove(LiveBatch b) {
    byKey.remove(b.batch.key(), b);
    byIdempotencyKey.remove(b.batch.idempotencyKey(), b);
  }

  /** Every live batch, in no particular order. */
  List<LiveBatch> values() {
    return byKey.values();
  }

  /** The slots of each table (for tests). */
  int capacity() {
    return byKey.hashes.length;
  }

  /** One key → batch index. {@code hashes[i]} is 0 for an empty slot (a real 0 is stored as 1). */
  private static final class Table {
    private static final int MIN_CAPACITY = 16;
    private final boolean idempotency;
    private int[] hashes = new int[MIN_CAPACITY];
    private LiveBatch[] batches = new LiveBatch[MIN_CAPACITY];
    private int size;

    Table(boolean idempotency) {
      this.idempotency = idempotency;
    }

    LiveBatch get(String key) {
      int hash = stored(key.hashCode());
      int mask = hashes.length - 1;
      for (int i = home(hash, mask); ; i = (i + 1) & mask) {
        int h = hashes[i];
        if (h == 0) {
          return null;
        }
        if (h == hash && key.equals(keyOf(batches[i]))) {
          return batches[i];
        }
      }
    }

    void put(String key, LiveBatch b) {
      if (4 * (size + 1) > hashes.length) {
        resize(hashes.length * 2);
      }
      insert(stored(key.hashCode()), b);
      size++;
    }

    void remove(String key, LiveBatch b) {
      int hash = stored(key.hashCode());
      int mask = hashes.length - 1;
      int i = home(hash, mask);
      while (batches[i] != b) {
        if (hashes[i] == 0) {
          throw new IllegalStateException("batch '" + key + "' is not live");
        }
        i = (i + 1) & mask;
      }
      // Shift the rest of the run back over the gap, keeping every slot reachable from its home.
      int gap = i;
      for (int j = (i + 1) & mask; hashes[j] != 0; j = (j + 1) & mask) {
        int home = home(hashes[j], mask);
        if (((j - home) & mask) >= ((j - gap) & mask)) {
          hashes[gap] = hashes[j];
          batches[gap] = batches[j];
          gap = j;
        }
      }
      hashes[gap] = 0;
      batches[gap] = null;
      size--;
      if (16 * size < hashes.length && hashes.length > MIN_CAPACITY) {
        resize(hashes.length / 2);
      }
    }

    List<LiveBatch> values() {
      List<LiveBatch> all = new ArrayList<>(size);
      for (LiveBatch b : batches) {
        if (b != null) {
          all.add(b);
        }
      }
      return all;
    }

    private void insert(int hash, LiveBatch b) {
      int mask = hashes.length - 1;
      int i = home(hash, mask);
      while (hashes[i] != 0) {
        i = (i + 1) & mask;
      }
      hashes[i] = hash;
      batches[i] = b;
    }

    private void resize(int capacity) {
      int[] oldHashes = hashes;
      LiveBatch[] oldBatches = batches;
      hashes = new int[capacity];
      batches = new LiveBatch[capacity];
      for (int i = 0; i < oldHashes.length; i++) {
        if (oldHashes[i] != 0) {
          insert(oldHashes[i], oldBatches[i]);
        }
      }
    }

    private String keyOf(LiveBatch b) {
      return idempotency ? b.batch.idempotencyKey() : b.batch.key();
    }

    private static int stored(int hash) {
      return hash == 0 ? 1 : hash;
    }

    private static int home(int hash, int mask) {
      return (hash ^ (hash >>> 16)) & mask;
    }
  }

  @Override
  public String toString() {
    return "LiveBatches[" + size() + " live]";
  }
}

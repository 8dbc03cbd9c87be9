package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The primitive key → entry index on its own: colliding hashes, stale slots of forgotten entries,
 * removal by backward shift, growth, the young table, entry numbers past 2^32, and random
 * operations against a {@link HashMap}.
 */
class EntryHashIndexTest {

  /** Entries numbered from {@code base}, forgotten oldest first; keys hashed by {@code hasher}. */
  private static final class Keys implements EntryHashIndex.Entries {
    private final long base;
    private final ToIntFunction<String> hasher;
    private final List<String> keys = new ArrayList<>();
    private long oldest;

    Keys(long base, ToIntFunction<String> hasher) {
      this.base = base;
      this.oldest = base;
      this.hasher = hasher;
    }

    long add(String key) {
      keys.add(key);
      return base + keys.size() - 1;
    }

    String key(long n) {
      return keys.get((int) (n - base));
    }

    int hashOf(String key) {
      return EntryHashIndex.mix(hasher.applyAsInt(key));
    }

    @Override
    public long oldest() {
      return oldest;
    }

    @Override
    public long end() {
      return base + keys.size();
    }

    @Override
    public boolean keyEquals(long n, String key) {
      return key(n).equals(key);
    }

    @Override
    public boolean sameKey(long a, long b) {
      return key(a).equals(key(b));
    }

    @Override
    public int hash(long n) {
      return hashOf(key(n));
    }
  }

  private static Keys keys() {
    return new Keys(0, String::hashCode);
  }

  /** Every key in one of four hash values: long probe runs. */
  private static Keys colliding(long base) {
    return new Keys(base, key -> key.hashCode() & 3);
  }

  private static long put(EntryHashIndex index, Keys keys, String key) {
    long n = keys.add(key);
    return index.put(keys.hashOf(key), n);
  }

  private static long find(EntryHashIndex index, Keys keys, String key) {
    return index.find(key, keys.hashOf(key));
  }

  @Test
  void mix_neverGivesZero_theEmptySlotMarker() {
    assertThat(EntryHashIndex.mix(0)).isNotZero();
    for (int h = -1000; h < 1000; h++) {
      assertThat(EntryHashIndex.mix(h)).isNotZero();
    }
  }

  @Test
  void collidingKeys_areFoundByTheirText_andALaterEntryTakesTheKeyOver() {
    Keys keys = colliding(0);
    EntryHashIndex index = new EntryHashIndex(keys, 8);
    for (int i = 0; i < 6; i++) {
      assertThat(put(index, keys, "k" + i)).isEqualTo(-1);
    }
    for (int i = 0; i < 6; i++) {
      assertThat(find(index, keys, "k" + i)).isEqualTo(i);
    }
    assertThat(find(index, keys, "nope")).isEqualTo(-1);
    assertThat(put(index, keys, "k3")).as("the entry it pointed at").isEqualTo(3);
    assertThat(find(index, keys, "k3")).isEqualTo(6);
    assertThat(index.size()).isEqualTo(6);
  }

  @Test
  void remove_shiftsTheProbeRunBack_soEveryOtherKeyIsStillFound() {
    Keys keys = colliding(0);
    EntryHashIndex index = new EntryHashIndex(keys, 8);
    for (int i = 0; i < 7; i++) {
      put(index, keys, "k" + i);
    }
    int occupied = index.occupied();
    index.remove(2);
    assertThat(index.occupied()).isEqualTo(occupied - 1);
    assertThat(index.size()).isEqualTo(6);
    assertThat(find(index, keys, "k2")).isEqualTo(-1);
    for (int i : new int[] {0, 1, 3, 4, 5, 6}) {
      assertThat(find(index, keys, "k" + i)).isEqualTo(i);
    }
    for (int i : new int[] {6, 0, 4, 1, 5, 3}) {
      index.remove(i);
    }
    assertThat(index.occupied()).isZero();
    assertThat(index.size()).isZero();
    assertThatThrownBy(() -> index.remove(3)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void forgottenEntries_leaveStaleSlots_thatLookupsSkipAndInsertsReuse() {
    Keys keys = colliding(0);
    EntryHashIndex index = new EntryHashIndex(keys, 8);
    for (int i = 0; i < 4; i++) {
      put(index, keys, "k" + i);
    }
    keys.oldest = 2; // k0 and k1 forgotten
    index.forgotten();
    index.forgotten();
    assertThat(find(index, keys, "k0")).isEqualTo(-1);
    assertThat(find(index, keys, "k1")).isEqualTo(-1);
    assertThat(find(index, keys, "k3")).isEqualTo(3);
    int occupied = index.occupied();
    assertThat(put(index, keys, "k0")).as("a forgotten entry is not replaced").isEqualTo(-1);
    assertThat(index.occupied()).as("the stale slot was reused").isEqualTo(occupied);
    assertThat(find(index, keys, "k0")).isEqualTo(4);
    assertThat(index.size()).isEqualTo(3);
  }

  @Test
  void growth_keepsTheTableAtMostHalfFull_andEveryKeyFindable() {
    Keys keys = keys();
    EntryHashIndex index = new EntryHashIndex(keys, 8);
    for (int i = 0; i < 10_000; i++) {
      put(index, keys, "key-" + i);
      assertThat(index.occupied()).isLessThanOrEqualTo(index.capacity() / 2);
    }
    assertThat(index.rehashes()).isGreaterThan(5);
    assertThat(index.capacity()).isLessThanOrEqualTo(4 * 10_000 * 2);
    for (int i = 0; i < 10_000; i++) {
      assertThat(find(index, keys, "key-" + i)).isEqualTo(i);
    }
  }

  @Test
  void theYoungTable_answersFirst_untilItIsMovedAndCleared() {
    Keys keys = colliding(0);
    EntryHashIndex index = new EntryHashIndex(keys, 4);
    put(index, keys, "a"); // 0, in the large table
    long young = keys.add("a");
    index.putYoung(keys.hashOf("a"), young);
    long other = keys.add("b");
    index.putYoung(keys.hashOf("b"), other);
    assertThat(find(index, keys, "a")).isEqualTo(young);
    assertThat(find(index, keys, "b")).isEqualTo(other);
    assertThat(index.size()).as("only the large table counts").isEqualTo(1);
    assertThat(index.put(keys.hashOf("a"), young)).isEqualTo(0);
    assertThat(index.put(keys.hashOf("b"), other)).isEqualTo(-1);
    index.clearYoung();
    assertThat(find(index, keys, "a")).isEqualTo(young);
    assertThat(find(index, keys, "b")).isEqualTo(other);
    assertThat(index.size()).isEqualTo(2);
  }

  /**
   * Random puts (directly or through the young table), forgetting, removes and lookups, against a
   * HashMap of key → newest entry not forgotten; entry numbers cross 2^32 in half the runs, and
   * half the runs hash every key into a few values, and half purge stale slots every few inserts.
   */
  @RepeatedTest(12)
  void randomOperations_matchAHashMap(RepetitionInfo info) {
    Random random = new Random(info.getCurrentRepetition());
    long base = random.nextBoolean() ? 0 : (1L << 32) - 500;
    Keys keys = random.nextBoolean() ? new Keys(base, String::hashCode) : colliding(base);
    int pendingLimit = 1 + random.nextInt(16);
    EntryHashIndex index = new EntryHashIndex(keys, pendingLimit);
    if (random.nextBoolean()) {
      index.purgeEvery(1 + random.nextInt(40));
    }
    Map<String, Long> model = new HashMap<>();
    List<Long> young = new ArrayList<>();
    int pool = 20 + random.nextInt(300);
    for (int step = 0; step < 5_000; step++) {
      int op = random.nextInt(20);
      String key = "k" + random.nextInt(pool);
      if (op < 8) {
        long n = keys.add(key);
        Long previous = model.put(key, n);
        if (random.nextBoolean()) {
          index.putYoung(keys.hashOf(key), n);
          young.add(n);
          if (young.size() >= pendingLimit) {
            moveYoung(index, keys, young);
          }
        } else {
          moveYoung(index, keys, young);
          assertThat(index.put(keys.hashOf(key), n)).isEqualTo(previous == null ? -1 : previous);
        }
      } else if (op < 11) {
        moveYoung(index, keys, young);
        for (int k = random.nextInt(8); k > 0 && keys.oldest < keys.end(); k--) {
          long n = keys.oldest++;
          if (model.remove(keys.key(n), n)) {
            index.forgotten();
          }
        }
      } else if (op < 12) {
        moveYoung(index, keys, young);
        Long n = model.remove(key);
        if (n != null) {
          index.remove(n);
        }
      } else {
        assertThat(find(index, keys, key)).as(key).isEqualTo(model.getOrDefault(key, -1L));
      }
      if (young.isEmpty()) {
        assertThat(index.size()).isEqualTo(model.size());
      }
    }
    moveYoung(index, keys, young);
    for (int i = 0; i < pool; i++) {
      String key = "k" + i;
      assertThat(find(index, keys, key)).as(key).isEqualTo(model.getOrDefault(key, -1L));
    }
  }

  /** What {@link RememberedBatches} does with its young entries: put each, in order, then clear. */
  private static void moveYoung(EntryHashIndex index, Keys keys, List<Long> young) {
    for (long n : young) {
      index.put(keys.hash(n), n);
    }
    index.clearYoung();
    young.clear();
  }
}

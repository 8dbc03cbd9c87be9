package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/** The live-batch index against two HashMaps, through growth, long runs and churn. */
class LiveBatchesTest {

  @RepeatedTest(10)
  void matchesTwoHashMaps_throughGrowthAndChurn(RepetitionInfo info) {
    Random random = new Random(info.getCurrentRepetition());
    LiveBatches live = new LiveBatches();
    Map<String, LiveBatch> byKey = new HashMap<>();
    Map<String, LiveBatch> byIdem = new HashMap<>();
    // Few keys at first (every removal shifting a run), then many.
    int keySpace = 1 + random.nextInt(64);
    for (int step = 0; step < 40_000; step++) {
      if (step == 20_000) {
        keySpace = 5_000;
      }
      String key = "k" + random.nextInt(keySpace);
      int action = random.nextInt(10);
      if (action < 5) {
        if (!byKey.containsKey(key)) {
          LiveBatch b = new LiveBatch(
              new Batch(key, "s", 1, 0, "i-" + key + "-" + step, step), step, 0);
          live.add(b);
          byKey.put(key, b);
          byIdem.put(b.idempotencyKey(), b);
        }
      } else if (action < 8) {
        LiveBatch b = byKey.remove(key);
        if (b != null) {
          byIdem.remove(b.idempotencyKey());
          live.remove(b);
        }
        assertThat(live.get(key)).isNull();
      } else {
        assertThat(live.get(key)).isSameAs(byKey.get(key));
        assertThat(live.containsKey(key)).isEqualTo(byKey.containsKey(key));
        LiveBatch b = byKey.get(key);
        if (b != null) {
          assertThat(live.byIdempotencyKey(b.idempotencyKey())).isSameAs(b);
        }
      }
      assertThat(live.size()).isEqualTo(byKey.size());
      assertThat(live.idempotencyKeyCount()).isEqualTo(byIdem.size());
      if (step % 5_000 == 0) {
        assertSameContents(live, byKey, byIdem);
      }
    }
    assertSameContents(live, byKey, byIdem);
  }

  @Test
  void aDrainedBacklog_shrinksTheTables_andEveryBatchLeftIsStillFound() {
    LiveBatches live = new LiveBatches();
    Map<String, LiveBatch> byKey = new HashMap<>();
    Map<String, LiveBatch> byIdem = new HashMap<>();
    List<LiveBatch> all = new ArrayList<>();
    for (int i = 0; i < 100_000; i++) {
      LiveBatch b = new LiveBatch(new Batch("batch-" + i, "s", 1, 0, "idem-" + i, i), i, 0);
      live.add(b);
      all.add(b);
    }
    assertThat(live.capacity()).isGreaterThanOrEqualTo(4 * 100_000);
    java.util.Collections.shuffle(all, new Random(7));
    for (int i = 0; i < all.size(); i++) {
      LiveBatch b = all.get(i);
      if (i < all.size() - 50) {
        live.remove(b);
        if (i % 997 == 0) { // one still live, found by both keys
          LiveBatch other = all.get(all.size() - 1 - i % 50);
          assertThat(live.get(other.key())).isSameAs(other);
          assertThat(live.byIdempotencyKey(other.idempotencyKey())).isSameAs(other);
        }
      } else {
        byKey.put(b.key(), b);
        byIdem.put(b.idempotencyKey(), b);
      }
    }
    assertThat(live.size()).isEqualTo(50);
    assertThat(live.capacity()).as("shrunk to at most 16 slots per batch").isLessThanOrEqualTo(16 * 50);
    assertSameContents(live, byKey, byIdem);
    for (int i = 0; i < 1_000; i++) { // and it grows again
      LiveBatch b = new LiveBatch(new Batch("again-" + i, "s", 1, 0, "idem-again-" + i, i), i, 0);
      live.add(b);
      byKey.put(b.key(), b);
      byIdem.put(b.idempotencyKey(), b);
    }
    assertSameContents(live, byKey, byIdem);
  }

  @Test
  void keysWithTheSameHash_neighbouringKeys_andHashZero_areAllFound() {
    LiveBatches live = new LiveBatches();
    Map<String, LiveBatch> byKey = new HashMap<>();
    Map<String, LiveBatch> byIdem = new HashMap<>();
    // "Aa" and "BB" have the same String.hashCode: 1024 keys share one hash. "" hashes to 0
    // (stored as 1, the empty marker being 0), and so does "\0".
    List<String> keys = new ArrayList<>(List.of("\0", "\0\0"));
    for (int i = 0; i < 1 << 10; i++) {
      StringBuilder k = new StringBuilder();
      for (int bit = 0; bit < 10; bit++) {
        k.append((i >> bit & 1) == 0 ? "Aa" : "BB");
      }
      keys.add(k.toString());
    }
    for (int i = 0; i < 20_000; i++) {
      keys.add("batch-" + i);
    }
    int seq = 0;
    for (String k : keys) {
      LiveBatch b = new LiveBatch(new Batch(k, "s", 1, 0, "idem-" + k, seq), seq++, 0);
      live.add(b);
      byKey.put(k, b);
      byIdem.put(b.idempotencyKey(), b);
    }
    assertSameContents(live, byKey, byIdem);
    for (int i = 0; i < keys.size(); i += 2) {
      LiveBatch b = byKey.remove(keys.get(i));
      byIdem.remove(b.idempotencyKey());
      live.remove(b);
    }
    assertSameContents(live, byKey, byIdem);
    assertThat(live.get("batch-x")).isNull();
    LiveBatch gone = new LiveBatch(new Batch("gone", "s", 1, 0, "g", 0), 0, 0);
    assertThatThrownBy(() -> live.remove(gone)).isInstanceOf(IllegalStateException.class);
  }

  private static void assertSameContents(
      LiveBatches live, Map<String, LiveBatch> byKey, Map<String, LiveBatch> byIdem) {
    assertThat(live.values()).containsExactlyInAnyOrderElementsOf(byKey.values());
    for (Map.Entry<String, LiveBatch> e : byKey.entrySet()) {
      assertThat(live.get(e.getKey())).isSameAs(e.getValue());
    }
    for (Map.Entry<String, LiveBatch> e : byIdem.entrySet()) {
      assertThat(live.byIdempotencyKey(e.getKey())).isSameAs(e.getValue());
    }
  }
}

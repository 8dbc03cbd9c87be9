package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The array-backed remembered set against a model of plain maps and a queue, through growth of
 * every array, wrap-around of the text ring, index rehashes, replaced keys, forgetting and
 * snapshot restores.
 */
class RememberedBatchesTest {

  /** One remembered entry as the model keeps it. */
  private record Entry(GoneBatch gone) {}

  @RepeatedTest(20)
  void lookupsAndOrder_matchAModel_throughGrowthAndForgetting(RepetitionInfo info) {
    Random random = new Random(info.getCurrentRepetition());
    // New entries wait in the young tables in groups of up to this many (1 = at once).
    int pending = new int[] {1, 2, 7, 64, RememberedBatches.PENDING_ENTRIES}[random.nextInt(5)];
    RememberedBatches remembered = new RememberedBatches(List.of("a", "b", "s"), pending);
    // Half the runs purge stale index slots every few inserts (in production every 2^30).
    boolean purging = random.nextBoolean();
    if (purging) {
      remembered.purgeEvery(1 + random.nextInt(64));
    }
    ArrayDeque<Entry> queue = new ArrayDeque<>();
    Map<String, Entry> byIdempotencyKey = new HashMap<>();
    Map<String, Entry> byBatchKey = new HashMap<>();
    long window = 1 + random.nextInt(400);
    long now = 0;
    for (int step = 0; step < 6_000; step++) {
      now += random.nextInt(3);
      if (random.nextInt(10) < 7) {
        // Idempotency keys are fresh (the core never remembers one twice); batch keys repeat.
        String idem = key(random, "i" + step + "-");
        // Half the batch keys are bare, so the same key is often acked again soon.
        String batchKey = random.nextBoolean()
            ? "k" + random.nextInt(300) + "-"
            : key(random, "k" + random.nextInt(300) + "-");
        boolean acked = random.nextBoolean();
        int attempt = acked ? 1 + random.nextInt(5) : 0;
        long runId = acked ? random.nextInt(4) : 0;
        long startedAt = acked ? Math.max(0, now - random.nextInt(50)) : 0;
        Batch batch = new Batch(batchKey, random.nextBoolean() ? "a" : "b",
            1 + random.nextInt(100), 0, idem, random.nextInt(1_000_000));
        remembered.add(batch, now, attempt, runId, startedAt);
        Entry e = new Entry(new GoneBatch(idem, batchKey, batch.stage(), batch.records(),
            batch.sequence(), now, acked, attempt, runId, startedAt));
        queue.addLast(e);
        byIdempotencyKey.put(idem, e);
        if (acked) {
          byBatchKey.put(batchKey, e);
        }
      } else {
        remembered.forgetExpired(now, window);
        while (!queue.isEmpty() && now - queue.peekFirst().gone().leftAtMs >= window) {
          Entry e = queue.pollFirst();
          byIdempotencyKey.remove(e.gone().idempotencyKey, e);
          byBatchKey.remove(e.gone().batchKey, e);
        }
      }
      // Probe with known and unknown keys.
      for (int probe = 0; probe < 3; probe++) {
        String batchKey = "k" + random.nextInt(300) + "-";
        Entry expected = byBatchKey.keySet().stream().filter(k -> k.startsWith(batchKey))
            .findAny().map(byBatchKey::get).orElse(null);
        if (expected != null) {
          assertSame(remembered.ackOf(expected.gone().batchKey), expected);
        }
        assertThat(remembered.ackOf(batchKey + "absent")).isNull();
      }
      if (!queue.isEmpty()) {
        Entry any = queue.toArray(new Entry[0])[random.nextInt(queue.size())];
        Entry expected = byIdempotencyKey.get(any.gone().idempotencyKey);
        assertSame(remembered.byIdempotencyKey(any.gone().idempotencyKey), expected);
      }
      // Counts and visits index the waiting acks first: do them rarely, so lookups meet waiting acks.
      if (step % 250 == 0) {
        assertMatches(remembered, queue, byIdempotencyKey, byBatchKey);
        assertMatches(restored(remembered), queue, byIdempotencyKey, byBatchKey);
      }
    }
    assertMatches(remembered, queue, byIdempotencyKey, byBatchKey);
    if (purging) {
      assertThat(remembered.rehashCount()).isGreaterThan(20);
    }
  }

  @Test
  void forgettingEverything_leavesNothingFindable_andTheArraysAreReused() {
    RememberedBatches remembered = new RememberedBatches(List.of("a", "b", "s"));
    for (int round = 0; round < 50; round++) {
      for (int i = 0; i < 100; i++) {
        String k = "batch-" + round + "-" + i;
        remembered.add(new Batch(k, "s", 1, 0, "idem-" + k, i), round, 1, 0, 0);
      }
      remembered.forgetExpired(round + 1, 1);
      assertThat(remembered.size()).isZero();
      assertThat(remembered.ackOf("batch-" + round + "-7")).isNull();
      assertThat(remembered.byIdempotencyKey("idem-batch-" + round + "-7")).isNull();
    }
    assertThat(remembered.toString()).contains("rows 128,");
  }

  @Test
  void youngTables_growWithTheEntriesRemembered_andShrinkAgain() {
    RememberedBatches remembered = new RememberedBatches(List.of("s"));
    assertThat(remembered.toString()).endsWith("young tables for 8]");
    for (int i = 0; i < 100_000; i++) {
      remembered.add(new Batch("k" + i, "s", 1, 0, "idem-" + i, i), i, 1, 0, 0);
    }
    assertThat(remembered.toString()).endsWith("young tables for 1024]");
    assertThat(remembered.ackOf("k99999").sequence).isEqualTo(99_999);
    assertThat(remembered.byIdempotencyKey("idem-0").sequence).isZero();
    remembered.forgetExpired(200_000, 1);
    remembered.add(new Batch("last", "s", 1, 0, "idem-last", 0), 200_000, 1, 0, 0);
    assertThat(remembered.ackCount()).isEqualTo(1);
    assertThat(remembered.toString()).endsWith("young tables for 8]");
    assertThat(remembered.byIdempotencyKey("idem-5")).isNull();
    assertThat(remembered.ackOf("last")).isNotNull();
  }

  @Test
  void aLaterAckOfTheSameBatchKey_wins_whileBothWaitForTheIndex() {
    RememberedBatches remembered = new RememberedBatches(List.of("s"));
    remembered.add(new Batch("k", "s", 1, 0, "idem-1", 1), 10, 1, 0, 5);
    remembered.add(new Batch("other", "s", 1, 0, "idem-2", 2), 11, 1, 0, 5);
    remembered.add(new Batch("k", "s", 3, 0, "idem-3", 3), 12, 2, 0, 6);

    assertThat(remembered.ackOf("k").records).isEqualTo(3);
    assertThat(remembered.ackOf("k").attempt).isEqualTo(2);
    assertThat(remembered.ackCount()).isEqualTo(2);
    assertThat(remembered.ackOf("k").records).isEqualTo(3);
    List<String> acked = new ArrayList<>();
    remembered.forEach((g, byIdem, byBatch) -> acked.add(g.idempotencyKey + " " + byBatch));
    assertThat(acked).containsExactly("idem-1 false", "idem-2 true", "idem-3 true");
  }

  @Test
  void aCopyForReading_seesAcksThatWaitForTheIndex() {
    RememberedBatches remembered = new RememberedBatches(List.of("s"));
    for (int i = 0; i < 10; i++) {
      remembered.add(new Batch("k" + i, "s", 1, 0, "idem-" + i, i), i, 1, 0, 0);
    }
    RememberedBatches copy = remembered.copyForReading();
    remembered.add(new Batch("k10", "s", 1, 0, "idem-10", 10), 10, 1, 0, 0);

    assertThat(copy.ackCount()).isEqualTo(10);
    List<String> acked = new ArrayList<>();
    copy.forEach((g, byIdem, byBatch) -> acked.add(g.batchKey + " " + byIdem + " " + byBatch));
    assertThat(acked).hasSize(10).allMatch(line -> line.endsWith(" true true"));
    assertThat(remembered.ackCount()).isEqualTo(11);
  }

  private static void assertMatches(
      RememberedBatches remembered,
      ArrayDeque<Entry> queue,
      Map<String, Entry> byIdempotencyKey,
      Map<String, Entry> byBatchKey) {
    assertThat(remembered.idempotencyKeyCount()).isEqualTo(byIdempotencyKey.size());
    assertThat(remembered.ackCount()).isEqualTo(byBatchKey.size());
    List<String> expected = new ArrayList<>();
    for (Entry e : queue) {
      boolean byIdem = byIdempotencyKey.get(e.gone().idempotencyKey) == e;
      boolean byBatch = byBatchKey.get(e.gone().batchKey) == e;
      if (byIdem || byBatch) {
        expected.add(describe(e.gone()) + " " + byIdem + " " + byBatch);
      }
    }
    List<String> actual = new ArrayList<>();
    remembered.forEach((g, byIdem, byBatch) -> actual.add(describe(g) + " " + byIdem + " " + byBatch));
    assertThat(actual).containsExactlyElementsOf(expected);
    assertThat(remembered.indexedCount()).isEqualTo(expected.size());
    // The signature's order: String.compareTo of the keys, sorted without building them.
    List<String> idemKeys = new ArrayList<>(byIdempotencyKey.keySet());
    idemKeys.sort(null);
    List<String> sortedIdem = new ArrayList<>();
    for (int offset : remembered.sortedByKey(true)) {
      sortedIdem.add(remembered.entryAt(offset).idempotencyKey);
      assertThat(Integer.signum(remembered.compareKey(idemKeys.get(0), offset, true)))
          .isEqualTo(Integer.signum(idemKeys.get(0).compareTo(sortedIdem.get(sortedIdem.size() - 1))));
    }
    assertThat(sortedIdem).containsExactlyElementsOf(idemKeys);
    List<String> batchKeys = new ArrayList<>(byBatchKey.keySet());
    batchKeys.sort(null);
    List<String> sortedAcks = new ArrayList<>();
    for (int offset : remembered.sortedByKey(false)) {
      sortedAcks.add(remembered.entryAt(offset).batchKey);
    }
    assertThat(sortedAcks).containsExactlyElementsOf(batchKeys);
    for (Map.Entry<String, Entry> e : byBatchKey.entrySet()) {
      assertSame(remembered.ackOf(e.getKey()), e.getValue());
    }
    for (Map.Entry<String, Entry> e : byIdempotencyKey.entrySet()) {
      assertSame(remembered.byIdempotencyKey(e.getKey()), e.getValue());
    }
  }

  private static RememberedBatches restored(RememberedBatches from) {
    RememberedBatches copy = new RememberedBatches(List.of("a", "b", "s"));
    from.forEach(copy::restore);
    return copy;
  }

  private static void assertSame(GoneBatch actual, Entry expected) {
    assertThat(actual == null ? null : describe(actual))
        .isEqualTo(expected == null ? null : describe(expected.gone()));
  }

  private static String describe(GoneBatch g) {
    return String.join("|", g.idempotencyKey, g.batchKey, g.stage, "" + g.records, "" + g.sequence,
        "" + g.leftAtMs, "" + g.acked, "" + g.attempt, "" + g.runId, "" + g.startedAtMs);
  }

  /** A key with a fixed prefix and a random tail of 0-40 characters, some outside Latin-1. */
  private static String key(Random random, String prefix) {
    StringBuilder b = new StringBuilder(prefix);
    int length = random.nextInt(41);
    for (int i = 0; i < length; i++) {
      b.append(switch (random.nextInt(8)) {
        case 0 -> 'é';
        case 1 -> '日';
        default -> (char) ('a' + random.nextInt(26));
      });
    }
    return b.toString();
  }
}

package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

/** The enqueue-order index against a TreeMap model, through many compactions. */
class EnqueueOrderTest {

  @RepeatedTest(20)
  void appendRemoveAndSeek_matchATreeMap_throughCompactions(RepetitionInfo info) {
    Random random = new Random(info.getCurrentRepetition());
    EnqueueOrder order = new EnqueueOrder();
    TreeMap<Long, LiveBatch> model = new TreeMap<>();
    long nextPosition = 0;
    for (int step = 0; step < 5_000; step++) {
      if (model.isEmpty() || random.nextInt(3) > 0) {
        nextPosition += 1 + random.nextInt(3);
        LiveBatch b = new LiveBatch(new Batch("k" + nextPosition, "s", 1, 0, "i", 0), nextPosition, 0);
        order.append(b);
        model.put(nextPosition, b);
      } else {
        // remove mostly old batches (FIFO-ish), sometimes any
        long key = random.nextBoolean()
            ? model.firstKey()
            : model.ceilingKey(random.nextLong(model.lastKey() + 1));
        order.remove(model.remove(key));
      }
      if (step % 97 == 0) {
        assertThat(order.size()).isEqualTo(model.size());
        List<LiveBatch> iterated = new ArrayList<>();
        order.forEach(iterated::add);
        assertThat(iterated).containsExactlyElementsOf(model.values());
        long cursor = random.nextLong(nextPosition + 2) - 1;
        int slot = order.firstSlotAfter(cursor);
        while (slot < order.slotCount() && order.at(slot) == null) {
          slot++;
        }
        var expected = model.higherEntry(cursor);
        assertThat(slot < order.slotCount() ? order.at(slot) : null)
            .isSameAs(expected == null ? null : expected.getValue());
      }
    }
    assertThat(order.slotCount()).as("holes are compacted away").isLessThanOrEqualTo(Math.max(64, 2 * model.size() + 1));
  }

  @org.junit.jupiter.api.Test
  void aDenseBacklog_keepsItsSlots_whileBatchesBehindItComeAndGo() {
    EnqueueOrder order = new EnqueueOrder();
    List<LiveBatch> backlog = new ArrayList<>();
    long position = 0;
    for (int i = 0; i < 1_000; i++) {
      LiveBatch b = new LiveBatch(new Batch("b" + i, "s", 1, 0, "i", 0), position++, 0);
      order.append(b);
      backlog.add(b);
    }
    for (int i = 0; i < 10_000; i++) {
      LiveBatch churn = new LiveBatch(new Batch("c" + i, "s", 1, 0, "i", 0), position++, 0);
      order.append(churn);
      order.remove(churn);
    }
    assertThat(order.slotCount()).as("the churn was compacted away").isLessThan(2_100);
    for (int i = 0; i < backlog.size(); i++) {
      assertThat(backlog.get(i).orderSlot).as("a dense backlog keeps its slots").isEqualTo(i);
    }
    order.remove(backlog.get(500));
    for (int i = 0; i < 10_000; i++) {
      LiveBatch churn = new LiveBatch(new Batch("d" + i, "s", 1, 0, "i", 0), position++, 0);
      order.append(churn);
      order.remove(churn);
    }
    assertThat(backlog.get(499).orderSlot).isEqualTo(499);
    assertThat(backlog.get(501).orderSlot).as("batches after a hole move up").isEqualTo(500);
    List<LiveBatch> iterated = new ArrayList<>();
    order.forEach(iterated::add);
    backlog.remove(500);
    assertThat(iterated).containsExactlyElementsOf(backlog);
  }
}

package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RememberedKeyFilterTest {

  @Test
  void everyAddedKey_mightBeContained_andFewOthersDo() {
    RememberedKeyFilter filter = new RememberedKeyFilter();
    filter.reset(100_000);
    Random random = new Random(7);
    int[] added = new int[100_000];
    for (int i = 0; i < added.length; i++) {
      added[i] = random.nextInt();
      filter.add(added[i]);
    }
    assertThat(filter.isFull()).isFalse();
    for (int hash : added) {
      assertThat(filter.mightContain(hash)).isTrue();
    }
    int falsePositives = 0;
    for (int i = 0; i < 100_000; i++) {
      falsePositives += filter.mightContain(random.nextInt()) ? 1 : 0;
    }
    // 10 bits per key, 3 bits in one word: about 2-3 %.
    assertThat(falsePositives).isBetween(500, 4_000);
    filter.add(1);
    assertThat(filter.isFull()).isTrue();
  }

  @Test
  void reset_forgetsWhatWasAdded() {
    RememberedKeyFilter filter = new RememberedKeyFilter();
    for (int i = 0; i < 300; i++) {
      filter.add(i * 0x01000193);
    }
    filter.reset(300);
    int stillThere = 0;
    for (int i = 0; i < 300; i++) {
      stillThere += filter.mightContain(i * 0x01000193) ? 1 : 0;
    }
    assertThat(stillThere).isLessThan(30);
  }

  @Test
  void pastItsLargestSize_theFilterAnswersMaybe() {
    RememberedKeyFilter filter = new RememberedKeyFilter();
    filter.reset(RememberedKeyFilter.MAX_WORDS * 64L / 10 + 1_000);
    assertThat(filter.mightContain(12345)).isTrue();
    assertThat(filter.toString()).contains("off");
    filter.reset(1_000);
    assertThat(filter.mightContain(12345)).isFalse();
  }
}

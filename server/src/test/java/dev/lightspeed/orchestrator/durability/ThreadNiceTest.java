package dev.lightspeed.orchestrator.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ThreadNiceTest {

  @Test
  void lowersOnlyTheCallingThread() throws Exception {
    assumeTrue(Files.isSymbolicLink(Path.of("/proc/thread-self")), "Linux only");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/renice")) || Files.isExecutable(Path.of("/bin/renice")),
        "needs renice");
    int before = ThreadNice.currentNice();
    AtomicInteger inside = new AtomicInteger(-1);
    Thread background = new Thread(() -> {
      try {
        assertThat(ThreadNice.lowerCurrentThread(7)).isTrue();
        inside.set(ThreadNice.currentNice());
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    background.start();
    background.join();
    assertThat(inside.get()).isEqualTo(7);
    assertThat(ThreadNice.currentNice()).as("the caller's thread is untouched").isEqualTo(before);
  }
}

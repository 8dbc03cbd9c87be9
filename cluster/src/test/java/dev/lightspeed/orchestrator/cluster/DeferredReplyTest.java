package dev.lightspeed.orchestrator.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class DeferredReplyTest {
  @Test
  void encodesOnFirstRead_onceEvenWhenReadFromSeveralThreadsAtOnce() throws Exception {
    AtomicInteger encodes = new AtomicInteger();
    DeferredReply reply = new DeferredReply(() -> {
      encodes.incrementAndGet();
      return "ok".getBytes(StandardCharsets.UTF_8);
    });
    assertThat(reply.encoded()).isFalse();
    assertThat(encodes).hasValue(0);

    CountDownLatch go = new CountDownLatch(1);
    List<Thread> readers = new ArrayList<>();
    List<ByteString> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 8; i++) {
      Thread t = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        seen.add(reply.getContent());
      });
      t.start();
      readers.add(t);
    }
    go.countDown();
    for (Thread t : readers) {
      t.join();
    }
    assertThat(encodes).hasValue(1);
    assertThat(reply.encoded()).isTrue();
    assertThat(seen).hasSize(8).allSatisfy(b -> assertThat(b.toStringUtf8()).isEqualTo("ok"));
    assertThat(reply.size()).isEqualTo(2);
  }
}

package dev.lightspeed.orchestrator.bench;

import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceStub;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/** {@code n} WatchStarted streams on one pipeline, counting what they receive. */
final class FanOut implements AutoCloseable {
  final AtomicLong received = new AtomicLong();
  private final List<Watch> watches = new ArrayList<>();

  FanOut(List<OrchestratorServiceStub> stubs, String pipeline, int n) {
    WatchStartedRequest request = WatchStartedRequest.newBuilder().setPipeline(pipeline).build();
    for (int i = 0; i < n; i++) {
      Watch w = new Watch();
      watches.add(w);
      stubs.get(i % stubs.size()).watchStarted(request, w);
    }
  }

  /** How many watchers received at least one started batch. */
  int receiving() {
    int n = 0;
    for (Watch w : watches) {
      if (w.count.get() > 0) {
        n++;
      }
    }
    return n;
  }

  void resetStats() {
    for (Watch w : watches) {
      synchronized (w) {
        w.stats.reset();
      }
    }
  }

  /** Delivery lag (server start time → client receipt, ms clock) of every watcher, merged. */
  RpcStats mergedStats() {
    RpcStats all = new RpcStats();
    for (Watch w : watches) {
      synchronized (w) {
        all.add(w.stats);
      }
    }
    return all;
  }

  /** Status code → how many streams ended with it before the case ended (e.g. cut off). */
  Map<String, Integer> endedEarly() {
    Map<String, Integer> out = new TreeMap<>();
    for (Watch w : watches) {
      Status s = w.endedWith;
      if (s != null) {
        out.merge(s.getCode() + (s.getDescription() == null ? "" : " (" + firstWords(s.getDescription()) + ")"), 1, Integer::sum);
      }
    }
    return out;
  }

  private static String firstWords(String text) {
    return text.length() > 60 ? text.substring(0, 60) + "…" : text;
  }

  @Override
  public void close() {
    for (Watch w : watches) {
      if (w.call != null && w.endedWith == null) {
        w.call.cancel("benchmark case over", null);
      }
    }
  }

  private final class Watch implements ClientResponseObserver<WatchStartedRequest, WatchStartedResponse> {
    final AtomicLong count = new AtomicLong();
    final RpcStats stats = new RpcStats();
    volatile ClientCallStreamObserver<WatchStartedRequest> call;
    volatile Status endedWith;

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchStartedRequest> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(WatchStartedResponse r) {
      long lagMs = System.currentTimeMillis() - r.getStarted().getStartedAtMs();
      synchronized (this) {
        stats.recordMicros("WatchStarted lag", lagMs * 1000);
      }
      count.incrementAndGet();
      received.incrementAndGet();
    }

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      if (s.getCode() != Status.Code.CANCELLED) {
        endedWith = s;
      }
    }

    @Override
    public void onCompleted() {
      endedWith = Status.OK.withDescription("completed by the server");
    }
  }
}

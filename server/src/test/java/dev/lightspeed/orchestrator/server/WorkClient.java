package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceStub;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkExtend;
import dev.lightspeed.orchestrator.v1.WorkFail;
import dev.lightspeed.orchestrator.v1.WorkOpen;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import dev.lightspeed.orchestrator.v1.WorkResult;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A test's raw Work stream: sends requests, records what the server sends, waits for it. */
public final class WorkClient {
  public static final long WAIT_S = 20;

  private final BlockingQueue<StartedBatch> started = new LinkedBlockingQueue<>();
  private final BlockingQueue<WorkResult> results = new LinkedBlockingQueue<>();
  public final CompletableFuture<Void> ended = new CompletableFuture<>();
  private final StreamObserver<WorkRequest> requests;
  private ClientCallStreamObserver<WorkRequest> call;

  WorkClient(OrchestratorServiceStub stub) {
    requests = stub.work(new ClientResponseObserver<WorkRequest, WorkResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<WorkRequest> c) {
        call = c;
      }

      @Override
      public void onNext(WorkResponse r) {
        if (r.hasStarted()) {
          started.add(r.getStarted());
        } else {
          results.add(r.getResult());
        }
      }

      @Override
      public void onError(Throwable t) {
        ended.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        ended.complete(null);
      }
    });
  }

  public static WorkClient open(OrchestratorServiceStub stub, String pipeline, int capacity,
      String... stages) {
    WorkClient c = new WorkClient(stub);
    c.send(WorkRequest.newBuilder().setOpen(WorkOpen.newBuilder()
        .setPipeline(pipeline).setCapacity(capacity).addAllStages(List.of(stages))).build());
    return c;
  }

  public synchronized void send(WorkRequest request) {
    requests.onNext(request);
  }

  public void ack(long requestId, String key, int attempt) {
    send(WorkRequest.newBuilder().setAck(
        WorkAck.newBuilder().setRequestId(requestId).setKey(key).setAttempt(attempt)).build());
  }

  public void fail(long requestId, String key, int attempt, String reason) {
    send(WorkRequest.newBuilder().setFail(WorkFail.newBuilder().setRequestId(requestId)
        .setKey(key).setAttempt(attempt).setReason(reason)).build());
  }

  public void extend(long requestId, String key, int attempt) {
    send(WorkRequest.newBuilder().setExtend(
        WorkExtend.newBuilder().setRequestId(requestId).setKey(key).setAttempt(attempt)).build());
  }

  public void halfClose() {
    requests.onCompleted();
  }

  public void cancel() {
    call.cancel("test cuts the stream", null);
  }

  /** The next started batch, waiting up to {@link #WAIT_S}. */
  public StartedBatch nextStarted() throws InterruptedException {
    StartedBatch s = started.poll(WAIT_S, TimeUnit.SECONDS);
    assertThat(s).as("a started batch within %s s", WAIT_S).isNotNull();
    return s;
  }

  public List<StartedBatch> nextStarted(int n) throws InterruptedException {
    List<StartedBatch> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(nextStarted());
    }
    return all;
  }

  /** What was started for this stream and not yet taken by {@link #nextStarted}. */
  public List<StartedBatch> drainStarted() {
    List<StartedBatch> all = new ArrayList<>();
    started.drainTo(all);
    return all;
  }

  public WorkResult nextResult() throws InterruptedException {
    WorkResult r = results.poll(WAIT_S, TimeUnit.SECONDS);
    assertThat(r).as("a result within %s s", WAIT_S).isNotNull();
    return r;
  }

  /** The status the stream ended with, waiting for the end. */
  public Throwable endedWith() throws Exception {
    try {
      ended.get(WAIT_S, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
  }
}

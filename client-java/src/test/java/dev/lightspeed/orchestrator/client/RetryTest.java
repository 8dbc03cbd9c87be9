package dev.lightspeed.orchestrator.client;

import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Automatic retries of UNAVAILABLE: idempotent calls only, via the channel's service config. */
class RetryTest {
  static final FlakyInterceptor flaky = new FlakyInterceptor();
  @RegisterExtension static final ServerExtension server = new ServerExtension(flaky);

  private OrchestratorClient client;
  private String p;

  @BeforeEach
  void setUp() {
    client =
        server
            .clientBuilder()
            .retryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(20), 2.0)
            .build();
    p = server.createPipeline("retry", 3, 30_000);
    flaky.reset();
  }

  @AfterEach
  void tearDown() {
    client.close();
  }

  @Test
  void ack_onUnavailable_isRetried_andSucceeds() {
    client.enqueueBatch(p, batch("b1", 1));
    client.startAvailable(p, 0);
    flaky.failNext("AckBatch", 2);

    assertThat(client.ackBatch(p, "b1", 1).getProcessed().getAttempt()).isEqualTo(1);
    assertThat(flaky.calls("AckBatch")).isEqualTo(3);
  }

  @Test
  void enqueue_onUnavailable_isRetried() {
    flaky.failNext("EnqueueBatch", 1);
    assertThat(client.enqueueBatch(p, batch("b1", 1))).isFalse();
    assertThat(flaky.calls("EnqueueBatch")).isEqualTo(2);
    assertThat(client.getStatus(p).getQueuedCount()).isEqualTo(1);
  }

  @Test
  void extendLeaseAndReads_onUnavailable_areRetried() {
    client.enqueueBatch(p, batch("b1", 1));
    client.startAvailable(p, 0);
    flaky.failNext("ExtendLease", 1);
    flaky.failNext("GetStatus", 1);
    flaky.failNext("ListBatches", 1);

    assertThat(client.extendLease(p, "b1", 1)).isPositive();
    assertThat(client.getStatus(p).getInFlightCount()).isEqualTo(1);
    assertThat(client.listBatches(
                dev.lightspeed.orchestrator.v1.ListBatchesRequest.newBuilder()
                    .setPipeline(p)
                    .build())
            .getBatchesCount())
        .isEqualTo(1);
    assertThat(flaky.calls("ExtendLease")).isEqualTo(2);
    assertThat(flaky.calls("GetStatus")).isEqualTo(2);
    assertThat(flaky.calls("ListBatches")).isEqualTo(2);
  }

  @Test
  void failBatch_onUnavailable_isNotRetried() {
    client.enqueueBatch(p, batch("b1", 1));
    client.startAvailable(p, 0);
    flaky.failNext("FailBatch", 1);

    OrchestratorException e =
        catchThrowableOfType(
            OrchestratorException.class, () -> client.failBatch(p, "b1", 1, "boom", false));
    assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(flaky.calls("FailBatch")).isEqualTo(1);
  }

  @Test
  void startAvailable_onUnavailable_isNotRetried() {
    client.enqueueBatch(p, batch("b1", 1));
    flaky.failNext("StartAvailable", 1);

    OrchestratorException e =
        catchThrowableOfType(OrchestratorException.class, () -> client.startAvailable(p, 0));
    assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(flaky.calls("StartAvailable")).isEqualTo(1);
  }

  @Test
  void applyAction_onUnavailable_isNotRetried() {
    flaky.failNext("ApplyAction", 1);
    OrchestratorException e =
        catchThrowableOfType(
            OrchestratorException.class,
            () ->
                client.applyAction(
                    p,
                    dev.lightspeed.orchestrator.v1.OperatorAction.newBuilder()
                        .setPause(
                            dev.lightspeed.orchestrator.v1.OperatorAction.Pause
                                .getDefaultInstance())
                        .build()));
    assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(flaky.calls("ApplyAction")).isEqualTo(1);
  }

  @Test
  void retries_stopAfterMaxAttempts() {
    flaky.failNext("GetStatus", 10);
    OrchestratorException e =
        catchThrowableOfType(OrchestratorException.class, () -> client.getStatus(p));
    assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(flaky.calls("GetStatus")).isEqualTo(3);
  }

  @Test
  void disableRetry_sendsEveryCallOnce() {
    try (OrchestratorClient noRetry = server.clientBuilder().disableRetry().build()) {
      flaky.failNext("GetStatus", 1);
      OrchestratorException e =
          catchThrowableOfType(OrchestratorException.class, () -> noRetry.getStatus(p));
      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(flaky.calls("GetStatus")).isEqualTo(1);
    }
  }
}

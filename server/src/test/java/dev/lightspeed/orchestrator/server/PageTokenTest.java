package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Page tokens are bound to their pipeline and listing, and a forged or damaged one is refused. */
class PageTokenTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private String firstPageToken(String name) {
    PipelineClient p = PipelineClient.create(grpc.blocking(), pipeline(name, "s").build());
    for (int i = 1; i <= 3; i++) {
      p.enqueue(batch("k" + i, "s", i));
    }
    String token = grpc.blocking().listBatches(ListBatchesRequest.newBuilder().setPipeline(name)
        .setPageSize(1).build()).getNextPageToken();
    assertThat(token).isNotEmpty();
    return token;
  }

  private static String b64(String text) {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aTokenOfAnotherPipeline_aForgedOne_andADamagedOne_areInvalidRequest() throws Exception {
    String ofA = firstPageToken("a");
    firstPageToken("b");
    String decoded = new String(Base64.getUrlDecoder().decode(ofA), StandardCharsets.UTF_8);
    char last = decoded.charAt(decoded.length() - 1);
    String damaged = b64(decoded.substring(0, decoded.length() - 1) + (last == '0' ? '1' : '0'));
    List<String> refused = List.of(
        ofA, // on pipeline b
        b64("batches:-5"), b64("batches:1"), damaged, ofA.substring(0, ofA.length() - 2));
    for (String token : refused) {
      try {
        grpc.blocking().listBatches(ListBatchesRequest.newBuilder().setPipeline("b")
            .setPageToken(token).build());
        throw new AssertionError("token " + token + " was accepted on pipeline b");
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).as(token).isEqualTo(Status.Code.INVALID_ARGUMENT);
        ErrorInfo info = StatusProto.fromThrowable(e).getDetails(0).unpack(ErrorInfo.class);
        assertThat(info.getReason()).isEqualTo("INVALID_REQUEST");
        assertThat(info.getMetadataMap()).containsEntry("field", "page_token");
      }
    }
    // and on its own pipeline it still works
    assertThat(grpc.blocking().listBatches(ListBatchesRequest.newBuilder().setPipeline("a")
        .setPageToken(ofA).setPageSize(1).build()).getBatches(0).getBatch().getKey())
        .isEqualTo("k2");
  }
}

package dev.lightspeed.orchestrator.client.errors;

import com.google.rpc.BadRequest;
import com.google.rpc.BadRequest.FieldViolation;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.List;

/**
 * INVALID_ARGUMENT: INVALID_BATCH, INVALID_FAILURE, INVALID_ACTION, INVALID_PIPELINE_SPEC or
 * INVALID_REQUEST. The request must change; {@link #fieldViolations()} names the fields.
 */
public class InvalidArgumentException extends OrchestratorException {
  private static final long serialVersionUID = 1L;

  InvalidArgumentException(RpcError error, Throwable cause) {
    super(error, cause);
  }

  /** The fields the server named in its {@code google.rpc.BadRequest}; empty when none. */
  public List<FieldViolation> fieldViolations() {
    List<FieldViolation> out = new ArrayList<>();
    for (Any detail : status().getDetailsList()) {
      if (detail.is(BadRequest.class)) {
        try {
          out.addAll(detail.unpack(BadRequest.class).getFieldViolationsList());
        } catch (InvalidProtocolBufferException e) {
          // a malformed detail names no field
        }
      }
    }
    return List.copyOf(out);
  }
}

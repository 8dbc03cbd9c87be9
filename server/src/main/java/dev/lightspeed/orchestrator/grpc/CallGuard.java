package dev.lightspeed.orchestrator.grpc;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;

/**
 * Deadlines honoured: a mutation whose call was cancelled, or whose deadline passed, while it
 * waited (in the executor, for the pipeline's lock) is not applied. Its client has already been
 * told DEADLINE_EXCEEDED or CANCELLED, so applying it would change state behind the client's
 * back. Checked under the pipeline's lock, just before the change.
 */
public final class CallGuard {
  private CallGuard() {}

  /** Throws DEADLINE_EXCEEDED or CANCELLED if the current call is over; else does nothing. */
  public static void ensureCallLive() {
    Context context = Context.current();
    Deadline deadline = context.getDeadline();
    boolean expired = deadline != null && deadline.isExpired();
    if (!expired && !context.isCancelled()) {
      return;
    }
    Status status = expired ? Status.DEADLINE_EXCEEDED : Status.CANCELLED;
    throw status
        .withDescription("the call " + (expired ? "passed its deadline" : "was cancelled")
            + " before it was applied; nothing was changed")
        .asRuntimeException();
  }
}

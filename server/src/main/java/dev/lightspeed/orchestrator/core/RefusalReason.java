package dev.lightspeed.orchestrator.core;

/**
 * What a {@link Rejection} is for: a stable UPPER_SNAKE name, sent as {@code
 * google.rpc.ErrorInfo.reason}, and the {@link Reason.Category} that decides its status code.
 *
 * <p>The core's own reasons are {@link Reason}. The server adds, in its own enum, the reasons
 * only it produces (malformed bytes, authentication, limits, the registry of pipelines), so that
 * the core lists no reason it never refuses with. Every name of both is a value of the API's
 * {@code lightspeed.orchestrator.v1.ErrorReason} enum; the server's tests check that.
 */
public interface RefusalReason {
  /** The reason's name, as sent on the wire (an enum constant's name). */
  String name();

  Reason.Category category();
}

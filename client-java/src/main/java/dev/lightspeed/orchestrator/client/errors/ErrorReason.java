package dev.lightspeed.orchestrator.client.errors;

/**
 * The stable reasons the server sends in {@code google.rpc.ErrorInfo.reason} (domain {@value
 * OrchestratorErrors#DOMAIN}), plus {@link #UNKNOWN} for a status without one (a transport error
 * such as UNAVAILABLE or DEADLINE_EXCEEDED, or a reason newer than this client).
 *
 * <p>The API lists and documents them in the generated enum {@link
 * dev.lightspeed.orchestrator.v1.ErrorReason}
 * (proto/lightspeed/orchestrator/v1/error_reason.proto). This enum stays, with the same names, because {@link OrchestratorException#reason()} returns it
 * and code switches over it; ErrorReasonTest fails when the two differ.
 */
public enum ErrorReason {
  INVALID_BATCH,
  INVALID_FAILURE,
  INVALID_ACTION,
  INVALID_PIPELINE_SPEC,
  INVALID_REQUEST,
  TOO_MANY_ITEMS,
  INVALID_UPDATE_MASK,
  MALFORMED_REQUEST,

  PIPELINE_NOT_FOUND,
  BATCH_NOT_FOUND,
  CONNECTOR_NOT_FOUND,

  PIPELINE_EXISTS,
  BATCH_KEY_EXISTS,
  IDEMPOTENCY_CONFLICT,

  UNKNOWN_STAGE,
  NO_CONNECTOR,
  CONNECTOR_DISABLED,
  BATCH_TOO_LARGE,
  PIPELINE_DRAINING,
  SEQUENCE_REGRESSION,
  NOT_IN_FLIGHT,
  NOT_DEAD_LETTERED,
  NOT_CANCELLABLE,
  PIPELINE_NOT_EMPTY,
  STAGE_IN_FLIGHT,

  QUEUE_FULL,
  LAG_EXCEEDED,
  WATCH_BUFFER_FULL,
  TOO_MANY_WATCHERS,
  TOO_MANY_PIPELINES,

  MISSING_CREDENTIALS,
  INVALID_CREDENTIALS,
  ROLE_REQUIRED,

  STALE_ATTEMPT,
  EVENTS_EXPIRED,

  /** UNAVAILABLE: the server's journal failed; it refuses every call until it is restarted. */
  JOURNAL_UNAVAILABLE,

  /** FAILED_PRECONDITION: a cluster RPC (GetClusterStatus) reached a single server. */
  NOT_A_CLUSTER,
  /** ALREADY_EXISTS: AddClusterNode with the id or an address of a node already there. */
  CLUSTER_NODE_EXISTS,
  /** NOT_FOUND: RemoveClusterNode with an id that is no node of the cluster. */
  CLUSTER_NODE_NOT_FOUND,
  /** FAILED_PRECONDITION: RemoveClusterNode would leave fewer nodes than the replication factor. */
  CLUSTER_TOO_SMALL,
  /** FAILED_PRECONDITION: the node called was removed from the cluster, or not added yet. */
  NOT_A_MEMBER,
  /** ABORTED: a membership change sent to another node is under way; send it again later. */
  CLUSTER_CHANGE_IN_PROGRESS,

  /** No ErrorInfo of this domain, or a reason this client does not know. */
  UNKNOWN;

  /** The API's value of this reason; {@code ERROR_REASON_UNSPECIFIED} for {@link #UNKNOWN}. */
  public dev.lightspeed.orchestrator.v1.ErrorReason toProto() {
    return this == UNKNOWN
        ? dev.lightspeed.orchestrator.v1.ErrorReason.ERROR_REASON_UNSPECIFIED
        : dev.lightspeed.orchestrator.v1.ErrorReason.valueOf(name());
  }

  /** The reason named {@code name}, or {@link #UNKNOWN}. */
  public static ErrorReason of(String name) {
    if (name == null || name.isEmpty()) {
      return UNKNOWN;
    }
    try {
      return valueOf(name);
    } catch (IllegalArgumentException e) {
      return UNKNOWN;
    }
  }
}

package dev.lightspeed.orchestrator.host;

import dev.lightspeed.orchestrator.core.Reason.Category;
import dev.lightspeed.orchestrator.core.RefusalReason;

/**
 * The reasons for which the server, not the core, refuses a call: the request's bytes or fields
 * (before the core sees them), authentication, the production limits, the registry of pipelines,
 * event retention, a failed journal. The core's own are {@link
 * dev.lightspeed.orchestrator.core.Reason}; {@link ErrorMapper} maps both onto the API's {@code
 * ErrorReason} enum by name, and ErrorReasonProtoTest checks that every name has its value there.
 */
public enum ServerReason implements RefusalReason {
  /** A request field outside its documented range that no other reason covers (e.g. page_size). */
  INVALID_REQUEST(Category.INVALID_ARGUMENT),
  /** The request message is not a valid protobuf encoding of the RPC's request type. */
  MALFORMED_REQUEST(Category.INVALID_ARGUMENT),
  /** A bulk request (EnqueueBatches, AckBatches) has more items than the server's limit. */
  TOO_MANY_ITEMS(Category.INVALID_ARGUMENT),

  /** No pipeline of that name in the registry. */
  PIPELINE_NOT_FOUND(Category.NOT_FOUND),
  /** CreatePipeline with the name of a registered pipeline. */
  PIPELINE_EXISTS(Category.ALREADY_EXISTS),
  /** DeletePipeline without {@code force} of a pipeline that still holds batches. */
  PIPELINE_NOT_EMPTY(Category.FAILED_PRECONDITION),

  /** A WatchStarted client fell behind and its bounded buffer overflowed. */
  WATCH_BUFFER_FULL(Category.RESOURCE_EXHAUSTED),
  /** The pipeline already has as many WatchStarted streams as the server allows. */
  TOO_MANY_WATCHERS(Category.RESOURCE_EXHAUSTED),
  /** The server already hosts as many pipelines as it allows. */
  TOO_MANY_PIPELINES(Category.RESOURCE_EXHAUSTED),

  /** The call carries no {@code authorization: Bearer <token>} header, and the server needs one. */
  MISSING_CREDENTIALS(Category.UNAUTHENTICATED),
  /** The call's bearer token is malformed or not one the server knows. */
  INVALID_CREDENTIALS(Category.UNAUTHENTICATED),
  /** The call's token is valid but lacks the role that the RPC needs. */
  ROLE_REQUIRED(Category.PERMISSION_DENIED),

  /**
   * The journal could not write or fsync; the server refuses every call that would report state
   * that may not be on disk, until it is restarted (docs/durability.md).
   */
  JOURNAL_UNAVAILABLE(Category.UNAVAILABLE),

  /** A cluster RPC (GetClusterStatus) reached a single server, not started with --cluster. */
  NOT_A_CLUSTER(Category.FAILED_PRECONDITION),
  /** AddClusterNode with the id or an address of a node already in the cluster. */
  CLUSTER_NODE_EXISTS(Category.ALREADY_EXISTS),
  /** RemoveClusterNode with an id that is no node of the cluster. */
  CLUSTER_NODE_NOT_FOUND(Category.NOT_FOUND),
  /** RemoveClusterNode would leave fewer nodes than the replication factor. */
  CLUSTER_TOO_SMALL(Category.FAILED_PRECONDITION),
  /** The cluster node called was removed, or started with --join and not added yet. */
  NOT_A_MEMBER(Category.FAILED_PRECONDITION),
  /** AddClusterNode / RemoveClusterNode while a change sent to another node is under way. */
  CLUSTER_CHANGE_IN_PROGRESS(Category.ABORTED),

  /** WatchEvents resumed after an event older than the oldest retained one (SPEC 3.10). */
  EVENTS_EXPIRED(Category.OUT_OF_RANGE);

  private final Category category;

  ServerReason(Category category) {
    this.category = category;
  }

  @Override
  public Category category() {
    return category;
  }
}

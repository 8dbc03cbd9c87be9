package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.BatchState;
import dev.lightspeed.orchestrator.core.Page;
import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.PipelineStatus;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StatusDraft;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogResponse;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersResponse;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesResponse;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesResponse;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.ListRunsResponse;
import java.util.List;

/**
 * The read RPCs: each reads its pipeline through {@link PipelineHandle#read} (the core's {@link
 * PipelineQueries}) and maps what it read to the response. Reads never change state.
 */
public final class Reads {
  private Reads() {}

  public static dev.lightspeed.orchestrator.v1.PipelineSpec effectiveSpec(PipelineHandle h) {
    PipelineSpec spec = h.read(q -> q.spec());
    return ProtoMapper.toProto(spec);
  }

  public static ListPipelinesResponse listPipelines(PipelineRegistry registry, ListPipelinesRequest req) {
    int size = Paging.pageSize(req.getPageSize());
    String after = Paging.text(req.getPageToken(), "pipelines");
    List<PipelineHandle> page = registry.list(after, size + 1);
    ListPipelinesResponse.Builder resp = ListPipelinesResponse.newBuilder();
    for (PipelineHandle h : page.subList(0, Math.min(size, page.size()))) {
      try {
        resp.addPipelines(effectiveSpec(h));
      } catch (Rejection deletedMeanwhile) {
        // deleted between listing and reading: not part of this page
      }
    }
    if (page.size() > size) {
      resp.setNextPageToken(Paging.token("pipelines", page.get(size - 1).name()));
    }
    return resp.build();
  }

  public static ListBatchesResponse listBatches(PipelineHandle handle, ListBatchesRequest req) {
    BatchState filter = req.hasState() ? ProtoMapper.toCore(req.getState()) : null;
    var page = page(handle, req.getPageSize(), req.getPageToken(),
        "batches" + (filter == null ? "" : "/" + filter),
        (q, cursor, size) -> q.batches(cursor, size, filter));
    ListBatchesResponse.Builder resp =
        ListBatchesResponse.newBuilder().setNextPageToken(page.nextPageToken());
    page.items().forEach(v -> resp.addBatches(ProtoMapper.toProto(v)));
    return resp.build();
  }

  public static ListRetriesResponse listRetries(PipelineHandle handle, ListRetriesRequest req) {
    var page = page(handle, req.getPageSize(), req.getPageToken(), "retries",
        PipelineQueries::retries);
    ListRetriesResponse.Builder resp =
        ListRetriesResponse.newBuilder().setNextPageToken(page.nextPageToken());
    page.items().forEach(r -> resp.addRetries(ProtoMapper.toProto(r)));
    return resp.build();
  }

  public static ListDeadLettersResponse listDeadLetters(
      PipelineHandle handle, ListDeadLettersRequest req) {
    var page = page(handle, req.getPageSize(), req.getPageToken(), "dead-letters",
        PipelineQueries::deadLetters);
    ListDeadLettersResponse.Builder resp =
        ListDeadLettersResponse.newBuilder().setNextPageToken(page.nextPageToken());
    page.items().forEach(r -> resp.addDeadLetters(ProtoMapper.toProto(r)));
    return resp.build();
  }

  public static ListRunsResponse listRuns(PipelineHandle handle, ListRunsRequest req) {
    var page = page(handle, req.getPageSize(), req.getPageToken(), "runs", PipelineQueries::runs);
    ListRunsResponse.Builder resp =
        ListRunsResponse.newBuilder().setNextPageToken(page.nextPageToken());
    page.items().forEach(r -> resp.addRuns(ProtoMapper.toProto(r)));
    return resp.build();
  }

  public static ListAuditLogResponse listAuditLog(PipelineHandle handle, ListAuditLogRequest req) {
    var page = page(handle, req.getPageSize(), req.getPageToken(), "audit-log",
        PipelineQueries::auditLog);
    ListAuditLogResponse.Builder resp =
        ListAuditLogResponse.newBuilder().setNextPageToken(page.nextPageToken());
    page.items().forEach(e -> resp.addEntries(ProtoMapper.toProto(e)));
    return resp.build();
  }

  /**
   * The signature and the invariant check are computed in O(state) after each change (then
   * cached until the next one), so this runs on the read pool, never on a transport thread.
   */
  public static GetStatusResponse getStatus(PipelineHandle pipeline) {
    return finishStatus(pipeline, statusDraft(pipeline));
  }

  /**
   * GetStatus's first step: under the pipeline's lock, only what must be consistent; {@link
   * #finishStatus} computes the signature's sort-and-hash of every remembered batch after the lock
   * is released, so calls on the pipeline do not wait (a cluster replica also leaves its apply
   * lock in between, {@code GroupState.prepareQuery}).
   */
  public static StatusDraft statusDraft(PipelineHandle pipeline) {
    return pipeline.read(q -> q.statusDraft());
  }

  /** GetStatus's second step, outside every lock; caches the signature it computed. */
  public static GetStatusResponse finishStatus(PipelineHandle pipeline, StatusDraft draft) {
    PipelineStatus status = draft.finish();
    if (!draft.signatureKnown()) {
      try {
        pipeline.read(q -> {
          q.offerSignature(draft.version(), status.signature());
          return null;
        });
      } catch (Rejection deletedSince) {
        // nothing to cache; the status read before the delete is still the answer
      }
    }
    return ProtoMapper.toProto(status);
  }


  /** One page of a pipeline's list, read by cursor (see {@link Paging}). */
  @FunctionalInterface
  private interface PageQuery<T> {
    Page<T> read(PipelineQueries queries, long cursor, int size);
  }

  /** A page's items and the token of the page after it ("" at the end). */
  private record PageReply<T>(List<T> items, String nextPageToken) {}

  /** Checks page_size and page_token (bound to {@code listing}), then reads one page. */
  private static <T> PageReply<T> page(
      PipelineHandle handle, int pageSize, String pageToken, String listing, PageQuery<T> query) {
    int size = Paging.pageSize(pageSize);
    String scope = Paging.scope(handle.name(), listing);
    long cursor = Paging.cursor(pageToken, scope);
    Page<T> page = handle.read(q -> query.read(q, cursor, size));
    return new PageReply<>(page.items(), Paging.token(scope, page.nextCursor()));
  }
}

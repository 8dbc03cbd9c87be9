// Typed errors read from the google.rpc.Status that the server attaches to every refusal:
// in the grpc-status-details-bin trailer of a failed call, or in the `error` of one
// EnqueueResult / AckResult of a bulk call.
import { Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";

import { ErrorInfo, RetryInfo } from "./gen/google/rpc/error_details";
import { Status } from "./gen/google/rpc/status";

/** ErrorInfo.domain of every refusal of the server. */
export const DOMAIN = "lightspeed.orchestrator";

/** The stable reason codes of the server (ErrorInfo.reason). */
export const Reason = {
  INVALID_BATCH: "INVALID_BATCH",
  INVALID_FAILURE: "INVALID_FAILURE",
  INVALID_ACTION: "INVALID_ACTION",
  INVALID_PIPELINE_SPEC: "INVALID_PIPELINE_SPEC",
  INVALID_REQUEST: "INVALID_REQUEST",
  MALFORMED_REQUEST: "MALFORMED_REQUEST",
  TOO_MANY_ITEMS: "TOO_MANY_ITEMS",
  INVALID_UPDATE_MASK: "INVALID_UPDATE_MASK",
  PIPELINE_NOT_FOUND: "PIPELINE_NOT_FOUND",
  BATCH_NOT_FOUND: "BATCH_NOT_FOUND",
  CONNECTOR_NOT_FOUND: "CONNECTOR_NOT_FOUND",
  PIPELINE_EXISTS: "PIPELINE_EXISTS",
  BATCH_KEY_EXISTS: "BATCH_KEY_EXISTS",
  IDEMPOTENCY_CONFLICT: "IDEMPOTENCY_CONFLICT",
  UNKNOWN_STAGE: "UNKNOWN_STAGE",
  NO_CONNECTOR: "NO_CONNECTOR",
  CONNECTOR_DISABLED: "CONNECTOR_DISABLED",
  BATCH_TOO_LARGE: "BATCH_TOO_LARGE",
  PIPELINE_DRAINING: "PIPELINE_DRAINING",
  SEQUENCE_REGRESSION: "SEQUENCE_REGRESSION",
  NOT_IN_FLIGHT: "NOT_IN_FLIGHT",
  NOT_DEAD_LETTERED: "NOT_DEAD_LETTERED",
  NOT_CANCELLABLE: "NOT_CANCELLABLE",
  PIPELINE_NOT_EMPTY: "PIPELINE_NOT_EMPTY",
  STAGE_IN_FLIGHT: "STAGE_IN_FLIGHT",
  QUEUE_FULL: "QUEUE_FULL",
  LAG_EXCEEDED: "LAG_EXCEEDED",
  WATCH_BUFFER_FULL: "WATCH_BUFFER_FULL",
  TOO_MANY_WATCHERS: "TOO_MANY_WATCHERS",
  TOO_MANY_PIPELINES: "TOO_MANY_PIPELINES",
  STALE_ATTEMPT: "STALE_ATTEMPT",
  EVENTS_EXPIRED: "EVENTS_EXPIRED",
  MISSING_CREDENTIALS: "MISSING_CREDENTIALS",
  INVALID_CREDENTIALS: "INVALID_CREDENTIALS",
  ROLE_REQUIRED: "ROLE_REQUIRED",
  JOURNAL_UNAVAILABLE: "JOURNAL_UNAVAILABLE",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

const ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";
const RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";

/** A call refused by the server (or failed in transport). */
export class OrchestratorError extends Error {
  /** The gRPC status code (`status.RESOURCE_EXHAUSTED` ... from @grpc/grpc-js). */
  readonly code: GrpcStatus;
  /** ErrorInfo.reason, e.g. Reason.QUEUE_FULL; "" when the status had no ErrorInfo. */
  readonly reason: string;
  readonly domain: string;
  /** ErrorInfo.metadata, e.g. `pipeline`, `field`. */
  readonly metadata: Record<string, string>;
  /** RetryInfo.retry_delay in milliseconds; undefined when the status had no RetryInfo. */
  readonly retryDelayMs: number | undefined;
  /** The status message (says what to change). */
  readonly details: string;
  /** The whole google.rpc.Status, when the server sent one. */
  readonly status: Status | undefined;

  constructor(code: GrpcStatus, details: string, status?: Status) {
    let reason = "";
    let domain = "";
    let metadata: Record<string, string> = {};
    let retryDelayMs: number | undefined;
    for (const detail of status?.details ?? []) {
      if (detail.typeUrl === ERROR_INFO) {
        const info = ErrorInfo.decode(detail.value);
        reason = info.reason;
        domain = info.domain;
        metadata = { ...info.metadata };
      } else if (detail.typeUrl === RETRY_INFO) {
        const delay = RetryInfo.decode(detail.value).retryDelay;
        retryDelayMs = delay ? delay.seconds * 1000 + Math.floor(delay.nanos / 1e6) : 0;
      }
    }
    super(`${GrpcStatus[code] ?? code}${reason ? " " + reason : ""}: ${details}`);
    this.name = "OrchestratorError";
    this.code = code;
    this.reason = reason;
    this.domain = domain;
    this.metadata = metadata;
    this.retryDelayMs = retryDelayMs;
    this.details = details;
    this.status = status;
  }

  /** From a google.rpc.Status, e.g. the `error` of an EnqueueResult or AckResult. */
  static fromStatus(status: Status): OrchestratorError {
    return new OrchestratorError(status.code as GrpcStatus, status.message, status);
  }

  /** From the error of a @grpc/grpc-js call (reads grpc-status-details-bin). */
  static fromServiceError(error: unknown): OrchestratorError {
    if (error instanceof OrchestratorError) {
      return error;
    }
    const e = error as Partial<ServiceError>;
    if (typeof e?.code !== "number") {
      return new OrchestratorError(GrpcStatus.UNKNOWN, String(error));
    }
    let status: Status | undefined;
    const raw = e.metadata instanceof Metadata ? e.metadata.get("grpc-status-details-bin")[0] : undefined;
    if (raw instanceof Buffer) {
      try {
        status = Status.decode(raw);
      } catch {
        status = undefined;
      }
    }
    return new OrchestratorError(e.code, e.details ?? e.message ?? "", status);
  }
}

/** The error of one EnqueueResult / AckResult of a bulk call; undefined when it succeeded. */
export function itemError(result: { error?: Status | undefined }): OrchestratorError | undefined {
  if (!result.error || result.error.code === GrpcStatus.OK) {
    return undefined;
  }
  return OrchestratorError.fromStatus(result.error);
}

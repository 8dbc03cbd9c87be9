// Typed errors read from the google.rpc.Status that the server attaches to every refusal:
// in the grpc-status-details-bin trailer of a failed call, or in the `error` of one
// EnqueueResult / AckResult of a bulk call.
import { Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";

import { ErrorInfo, RetryInfo } from "./gen/google/rpc/error_details";
import { Status } from "./gen/google/rpc/status";
import { ErrorReason } from "./gen/lightspeed/orchestrator/v1/error_reason";

/** ErrorInfo.domain of every refusal of the server. */
export const DOMAIN = "lightspeed.orchestrator";

/** ErrorReason's names that are reasons: not the zero value, nor ts-proto's UNRECOGNIZED. */
type ReasonName = Exclude<keyof typeof ErrorReason, "ERROR_REASON_UNSPECIFIED" | "UNRECOGNIZED">;

/**
 * The stable reason codes of the server (ErrorInfo.reason), made from the generated
 * `pb.ErrorReason` enum (proto/lightspeed/orchestrator/v1/error_reason.proto): each name maps to
 * itself, the string sent, e.g. `Reason.QUEUE_FULL === "QUEUE_FULL"`.
 */
export const Reason = Object.freeze(
  Object.fromEntries(
    Object.keys(ErrorReason)
      .filter((k) => Number.isNaN(Number(k))) // a numeric enum also maps each number to its name
      .filter((k) => k !== "ERROR_REASON_UNSPECIFIED" && k !== "UNRECOGNIZED")
      .map((k) => [k, k]),
  ),
) as { readonly [K in ReasonName]: K };
export type Reason = ReasonName;

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

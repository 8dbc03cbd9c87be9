// Promise-based client over the generated @grpc/grpc-js client: every RPC of
// OrchestratorService as a method that takes a (partial) request object, and rejects with an
// OrchestratorError that carries the server's ErrorInfo reason. Server-streaming RPCs
// (StartAvailable, WatchStarted) return a Stream: `for await` it, `cancel()` it to stop.
import * as grpc from "@grpc/grpc-js";

import type { StartedBatch } from "./gen/lightspeed/orchestrator/v1/batch";
import type { Event, EventType } from "./gen/lightspeed/orchestrator/v1/event";
import {
  AckBatchRequest,
  AckBatchResponse,
  AckBatchesRequest,
  AckBatchesResponse,
  ApplyActionRequest,
  ApplyActionResponse,
  CompleteRunRequest,
  CompleteRunResponse,
  CreatePipelineRequest,
  CreatePipelineResponse,
  DeletePipelineRequest,
  DeletePipelineResponse,
  EnqueueBatchRequest,
  EnqueueBatchResponse,
  EnqueueBatchesRequest,
  EnqueueBatchesResponse,
  ExtendLeaseRequest,
  ExtendLeaseResponse,
  FailBatchRequest,
  FailBatchResponse,
  GetPipelineRequest,
  GetPipelineResponse,
  GetStatusRequest,
  GetStatusResponse,
  ListAuditLogRequest,
  ListAuditLogResponse,
  ListBatchesRequest,
  ListBatchesResponse,
  ListDeadLettersRequest,
  ListDeadLettersResponse,
  ListPipelinesRequest,
  ListPipelinesResponse,
  ListRetriesRequest,
  ListRetriesResponse,
  ListRunsRequest,
  ListRunsResponse,
  StartAvailableRequest,
  StartRunRequest,
  StartRunResponse,
  UpdatePipelineRequest,
  UpdatePipelineResponse,
  WatchStartedRequest,
  WatchEventsRequest,
  OrchestratorServiceClient,
  OrchestratorServiceService,
} from "./gen/lightspeed/orchestrator/v1/orchestrator_service";
import { OrchestratorError } from "./errors";
import { SERVICE_CONFIG, channelTarget } from "./targets";

/** Like the generated types, but every field optional (absent = proto default). */
export type DeepPartial<T> = T extends Date | Function | Uint8Array | string | number | boolean | undefined ? T
  : T extends Array<infer U> ? Array<DeepPartial<U>>
  : T extends ReadonlyArray<infer U> ? ReadonlyArray<DeepPartial<U>>
  : T extends { $case: string } ? { [K in keyof Omit<T, "$case">]?: DeepPartial<T[K]> } & { $case: T["$case"] }
  : T extends {} ? { [K in keyof T]?: DeepPartial<T[K]> }
  : Partial<T>;

/** Per-call options. */
export interface CallOptions {
  /** Absolute deadline (Date) or milliseconds from now (number). */
  deadline?: Date | number;
  metadata?: grpc.Metadata;
}

/** Options of a Client: the channel's @grpc/grpc-js options, and a bearer token. */
export interface ClientOptions extends grpc.ClientOptions {
  /**
   * For a server started with --token-file: sends `authorization: Bearer <token>` on every call,
   * streams included (also on calls made through `client.raw`). An empty or blank token throws.
   * Use it with TLS credentials: the token is a secret, and plaintext is only fit for loopback.
   */
  bearerToken?: string;
  /**
   * With TLS, the name every node's certificate must carry, whichever answers (also the
   * `:authority`); default: the host of the (first) address. Sets `grpc.ssl_target_name_override`
   * and `grpc.default_authority`.
   */
  serverName?: string;
}

/**
 * An interceptor that adds `authorization: Bearer <token>` to the metadata of every call. Not
 * CallCredentials: @grpc/grpc-js refuses to compose them with insecure channel credentials, and
 * the header must also reach a plaintext loopback server (as the Java client's bearerToken does).
 */
function bearerTokenInterceptor(token: string): grpc.Interceptor {
  if (typeof token !== "string" || token.trim() === "") {
    throw new Error("bearer token must not be empty");
  }
  const value = `Bearer ${token.trim()}`;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.add("authorization", value);
        next(metadata, listener);
      },
    });
}

/** A resumable WatchEvents stream (see Client.events). */
export interface EventStream extends AsyncIterable<Event> {
  /** The id of the last event yielded (or the resume id given); -1 if none. */
  lastEventId: number;
  /** How many times the stream was reopened. */
  reconnects: number;
  cancelled: boolean;
  current: Stream<Event> | undefined;
  cancel(): void;
}

/** A server stream of messages: iterate with `for await`; `cancel()` ends it quietly. */
export interface Stream<T> extends AsyncIterable<T> {
  cancel(): void;
}

interface MethodDef<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

interface Partial2Full<Req> {
  fromPartial(object: any): Req;
}

function callOptions(options?: CallOptions): grpc.CallOptions {
  const deadline = options?.deadline;
  return typeof deadline === "number" ? { deadline: Date.now() + deadline } : deadline ? { deadline } : {};
}

/** A connection to the orchestrator. */
export class Client {
  /** The generated @grpc/grpc-js client (callback API), for anything not wrapped here. */
  readonly raw: OrchestratorServiceClient;

  /**
   * @param address "host:port" (or any grpc-js target such as "dns:///name:port"), or a list of
   *   "IP:PORT", the nodes of a cluster: calls go to the first that accepts a connection and move
   *   to the next when it goes away (grpc-js's pick_first over its `ipv4:` list; see targets.ts).
   *   Idempotent calls (enqueues, acks, lease extensions, reads) are retried by the channel on
   *   UNAVAILABLE, up to 4 attempts within the call's deadline; a replayed enqueue is
   *   deduplicated by its idempotency key.
   * @param credentials default: plaintext (grpc.credentials.createInsecure()); for TLS,
   *   grpc.credentials.createSsl(readFileSync("tls/ca.pem"))
   * @param options channel options, `bearerToken` for a server started with --token-file, and
   *   `serverName` for TLS
   */
  constructor(address: string | readonly string[], credentials?: grpc.ChannelCredentials, options?: ClientOptions) {
    const { bearerToken, serverName, ...channelOptions }: ClientOptions = options ?? {};
    if (bearerToken !== undefined) {
      channelOptions.interceptors = [bearerTokenInterceptor(bearerToken), ...(channelOptions.interceptors ?? [])];
    }
    let target: string;
    if (typeof address === "string") {
      target = address;
    } else if (address.length === 1) {
      target = address[0];
    } else {
      const list = channelTarget(address);
      target = list.target;
      channelOptions["grpc.default_authority"] ??= list.authority;
    }
    if (serverName !== undefined) {
      channelOptions["grpc.ssl_target_name_override"] = serverName;
      channelOptions["grpc.default_authority"] = serverName;
    }
    channelOptions["grpc.service_config"] ??= SERVICE_CONFIG;
    // grpc-js's channelz bookkeeping (per-call counters and trace events, for a channelz admin
    // service this client never serves) cost ~10 % of the client's CPU per enqueued item
    // (bench/findings.md, round 18); a caller that serves channelz can set it to 1.
    channelOptions["grpc.enable_channelz"] ??= 0;
    this.raw = new OrchestratorServiceClient(target, credentials ?? grpc.credentials.createInsecure(), channelOptions);
  }

  /** Resolves once the channel is connected (rejects after timeoutMs). */
  waitReady(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.raw.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): void {
    this.raw.close();
  }

  private unary<Req, Res>(
    def: MethodDef<Req, Res>,
    fns: Partial2Full<Req>,
    request: DeepPartial<Req>,
    options?: CallOptions,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.raw.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        fns.fromPartial(request),
        options?.metadata ?? new grpc.Metadata(),
        callOptions(options),
        (err: grpc.ServiceError | null, response?: Res) =>
          err ? reject(OrchestratorError.fromServiceError(err)) : resolve(response as Res),
      );
    });
  }

  private serverStream<Req, Res>(
    def: MethodDef<Req, Res>,
    fns: Partial2Full<Req>,
    request: DeepPartial<Req>,
    options?: CallOptions,
  ): Stream<Res> {
    const call = this.raw.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      fns.fromPartial(request),
      options?.metadata ?? new grpc.Metadata(),
      callOptions(options),
    );
    let cancelled = false;
    async function* iterate(): AsyncGenerator<Res> {
      try {
        for await (const message of call) {
          yield message as Res;
        }
      } catch (err) {
        if (cancelled && (err as grpc.ServiceError).code === grpc.status.CANCELLED) {
          return;
        }
        throw OrchestratorError.fromServiceError(err);
      } finally {
        call.cancel(); // the consumer stopped early (break/throw): end the call too
      }
    }
    const iterator = iterate();
    return {
      [Symbol.asyncIterator]: () => iterator,
      cancel() {
        cancelled = true;
        call.cancel();
      },
    };
  }

  /** StartAvailable: one StartedBatch per batch started (the stream ends after the last). */
  startAvailable(request: DeepPartial<StartAvailableRequest>, options?: CallOptions): Stream<StartedBatch> {
    return mapStream(
      this.serverStream(OrchestratorServiceService.startAvailable, StartAvailableRequest, request, options),
      (m) => m.started!,
    );
  }

  /** WatchStarted: every batch started in the pipeline from now on, until cancel(). */
  watchStarted(request: DeepPartial<WatchStartedRequest>, options?: CallOptions): Stream<StartedBatch> {
    return mapStream(
      this.serverStream(OrchestratorServiceService.watchStarted, WatchStartedRequest, request, options),
      (m) => m.started!,
    );
  }

  /** WatchEvents, one call: the pipeline's events in id order, until cancel() or an error. */
  watchEvents(request: DeepPartial<WatchEventsRequest>, options?: CallOptions): Stream<Event> {
    return mapStream(
      this.serverStream(OrchestratorServiceService.watchEvents, WatchEventsRequest, request, options),
      (m) => m.event!,
    );
  }

  /**
   * A resumable WatchEvents stream: after `afterEventId` (absent = from now on), only `types`
   * (empty = all). When the server cuts it off (WATCH_BUFFER_FULL) or the connection goes away
   * (UNAVAILABLE), it reopens after the last id it yielded (waiting 100 ms, doubling to 5 s), so
   * `for await` sees every event in id order with no gap and no duplicate while the server still
   * retains them. `lastEventId` is the id to keep for resuming; `cancel()` ends it.
   */
  events(pipeline: string, afterEventId?: number, types: EventType[] = []): EventStream {
    const client = this;
    const state: EventStream = {
      lastEventId: afterEventId ?? -1,
      reconnects: 0,
      cancelled: false,
      current: undefined,
      cancel() {
        state.cancelled = true;
        state.current?.cancel();
      },
      async *[Symbol.asyncIterator]() {
        let backoff = 100;
        while (!state.cancelled) {
          const request: DeepPartial<WatchEventsRequest> = { pipeline, types };
          if (state.lastEventId >= 0) {
            request.afterEventId = state.lastEventId;
          }
          state.current = client.watchEvents(request);
          try {
            for await (const event of state.current) {
              state.lastEventId = event.eventId;
              backoff = 100;
              yield event;
            }
            return;
          } catch (err) {
            const e = OrchestratorError.fromServiceError(err);
            if (state.cancelled || !(e.code === grpc.status.UNAVAILABLE || e.reason === "WATCH_BUFFER_FULL")) {
              throw e;
            }
          }
          await new Promise((resolve) => setTimeout(resolve, backoff));
          backoff = Math.min(backoff * 2, 5000);
          state.reconnects++;
        }
      },
    };
    return state;
  }

  createPipeline(request: DeepPartial<CreatePipelineRequest>, options?: CallOptions): Promise<CreatePipelineResponse> {
    return this.unary(OrchestratorServiceService.createPipeline, CreatePipelineRequest, request, options);
  }

  getPipeline(request: DeepPartial<GetPipelineRequest>, options?: CallOptions): Promise<GetPipelineResponse> {
    return this.unary(OrchestratorServiceService.getPipeline, GetPipelineRequest, request, options);
  }

  listPipelines(request: DeepPartial<ListPipelinesRequest>, options?: CallOptions): Promise<ListPipelinesResponse> {
    return this.unary(OrchestratorServiceService.listPipelines, ListPipelinesRequest, request, options);
  }

  /** UpdatePipeline: `updateMask` names the fields of `pipeline` to change (see the proto). */
  updatePipeline(request: DeepPartial<UpdatePipelineRequest>, options?: CallOptions): Promise<UpdatePipelineResponse> {
    return this.unary(OrchestratorServiceService.updatePipeline, UpdatePipelineRequest, request, options);
  }

  deletePipeline(request: DeepPartial<DeletePipelineRequest>, options?: CallOptions): Promise<DeletePipelineResponse> {
    return this.unary(OrchestratorServiceService.deletePipeline, DeletePipelineRequest, request, options);
  }

  enqueueBatch(request: DeepPartial<EnqueueBatchRequest>, options?: CallOptions): Promise<EnqueueBatchResponse> {
    return this.unary(OrchestratorServiceService.enqueueBatch, EnqueueBatchRequest, request, options);
  }

  enqueueBatches(request: DeepPartial<EnqueueBatchesRequest>, options?: CallOptions): Promise<EnqueueBatchesResponse> {
    return this.unary(OrchestratorServiceService.enqueueBatches, EnqueueBatchesRequest, request, options);
  }

  ackBatch(request: DeepPartial<AckBatchRequest>, options?: CallOptions): Promise<AckBatchResponse> {
    return this.unary(OrchestratorServiceService.ackBatch, AckBatchRequest, request, options);
  }

  ackBatches(request: DeepPartial<AckBatchesRequest>, options?: CallOptions): Promise<AckBatchesResponse> {
    return this.unary(OrchestratorServiceService.ackBatches, AckBatchesRequest, request, options);
  }

  failBatch(request: DeepPartial<FailBatchRequest>, options?: CallOptions): Promise<FailBatchResponse> {
    return this.unary(OrchestratorServiceService.failBatch, FailBatchRequest, request, options);
  }

  extendLease(request: DeepPartial<ExtendLeaseRequest>, options?: CallOptions): Promise<ExtendLeaseResponse> {
    return this.unary(OrchestratorServiceService.extendLease, ExtendLeaseRequest, request, options);
  }

  applyAction(request: DeepPartial<ApplyActionRequest>, options?: CallOptions): Promise<ApplyActionResponse> {
    return this.unary(OrchestratorServiceService.applyAction, ApplyActionRequest, request, options);
  }

  startRun(request: DeepPartial<StartRunRequest>, options?: CallOptions): Promise<StartRunResponse> {
    return this.unary(OrchestratorServiceService.startRun, StartRunRequest, request, options);
  }

  completeRun(request: DeepPartial<CompleteRunRequest>, options?: CallOptions): Promise<CompleteRunResponse> {
    return this.unary(OrchestratorServiceService.completeRun, CompleteRunRequest, request, options);
  }

  listBatches(request: DeepPartial<ListBatchesRequest>, options?: CallOptions): Promise<ListBatchesResponse> {
    return this.unary(OrchestratorServiceService.listBatches, ListBatchesRequest, request, options);
  }

  listRetries(request: DeepPartial<ListRetriesRequest>, options?: CallOptions): Promise<ListRetriesResponse> {
    return this.unary(OrchestratorServiceService.listRetries, ListRetriesRequest, request, options);
  }

  listDeadLetters(request: DeepPartial<ListDeadLettersRequest>, options?: CallOptions): Promise<ListDeadLettersResponse> {
    return this.unary(OrchestratorServiceService.listDeadLetters, ListDeadLettersRequest, request, options);
  }

  listRuns(request: DeepPartial<ListRunsRequest>, options?: CallOptions): Promise<ListRunsResponse> {
    return this.unary(OrchestratorServiceService.listRuns, ListRunsRequest, request, options);
  }

  listAuditLog(request: DeepPartial<ListAuditLogRequest>, options?: CallOptions): Promise<ListAuditLogResponse> {
    return this.unary(OrchestratorServiceService.listAuditLog, ListAuditLogRequest, request, options);
  }

  getStatus(request: DeepPartial<GetStatusRequest>, options?: CallOptions): Promise<GetStatusResponse> {
    return this.unary(OrchestratorServiceService.getStatus, GetStatusRequest, request, options);
  }
}

function mapStream<A, B>(source: Stream<A>, f: (a: A) => B): Stream<B> {
  async function* iterate(): AsyncGenerator<B> {
    for await (const a of source) {
      yield f(a);
    }
  }
  const iterator = iterate();
  return { [Symbol.asyncIterator]: () => iterator, cancel: () => source.cancel() };
}

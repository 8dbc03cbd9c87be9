// TypeScript client of the Lightspeed Orchestrator gRPC API (@grpc/grpc-js + ts-proto).
//   pb:                 every generated message and enum (lightspeed.orchestrator.v1)
//   Client:             promise-based calls; refusals reject with OrchestratorError (reason, ...)
//   tlsCredentials:     TLS from PEM files, with a client certificate for mutual TLS
//   StreamWorker:       the continuous worker on the Work stream (concurrency N, no polling)
//   BatchingProducer:   enqueue() per batch, sent in EnqueueBatches calls (BatchingAcker: acks)
//   Worker:             the round-based StartAvailable loop (low-level helper)
export * as pb from "./pb";
export { Client } from "./client";
export type { CallOptions, ClientOptions, DeepPartial, Stream } from "./client";
export { DOMAIN, OrchestratorError, Reason, itemError } from "./errors";
export { PermanentFailure, Worker } from "./worker";
export type { Handler, WorkResult, WorkerOptions } from "./worker";
export { tlsCredentials } from "./tls";
export type { TlsFiles } from "./tls";
export { StreamWorker } from "./work";
export type { StreamWorkerOptions, StreamWorkerStats } from "./work";
export { BatchingAcker, BatchingProducer } from "./producer";
export type { BatchingOptions } from "./producer";

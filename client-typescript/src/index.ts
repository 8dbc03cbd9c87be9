// TypeScript client of the Lightspeed Orchestrator gRPC API (@grpc/grpc-js + ts-proto).
//   pb:                 every generated message and enum (lightspeed.orchestrator.v1)
//   Client:             promise-based calls; refusals reject with OrchestratorError (reason, ...)
//   Worker:             StartAvailable, handle, heartbeat the lease, ack or fail
//   tlsCredentials:     TLS from PEM files, with a client certificate for mutual TLS
export * as pb from "./pb";
export { Client } from "./client";
export type { CallOptions, ClientOptions, DeepPartial, Stream } from "./client";
export { DOMAIN, OrchestratorError, Reason, itemError } from "./errors";
export { PermanentFailure, Worker } from "./worker";
export type { Handler, WorkResult, WorkerOptions } from "./worker";
export { tlsCredentials } from "./tls";
export type { TlsFiles } from "./tls";

// Several servers behind one channel: grpc-js's own `ipv4:` / `ipv6:` address lists.
//
// grpc-js resolves `ipv4:10.0.0.1:50051,10.0.0.2:50051` to every address listed; pick_first then
// uses the first that connects and, when that connection breaks, tries the list again in order
// on the next call. So a list of IP addresses needs no resolver of ours. grpc-js has no scheme for
// a list of host names (one `dns:` name per channel): a list with a host name is refused; give
// the nodes one DNS name with an address record each (`dns:///name:50051`).
import { isIP } from "node:net";

import { OrchestratorServiceService } from "./gen/lightspeed/orchestrator/v1/orchestrator_service";

/** Safe to send again (the Java client's RetryServiceConfig says why): idempotency keys, acks, reads. */
const IDEMPOTENT_METHODS = [
  "enqueueBatch", "enqueueBatches", "ackBatch", "ackBatches", "extendLease", "getPipeline",
  "listPipelines", "listBatches", "listRetries", "listDeadLetters", "listRuns", "listAuditLog",
  "getStatus",
] as const;

/**
 * pick_first (gRPC's default, said out loud) and a retry of UNAVAILABLE for the idempotent
 * methods only: 4 attempts, backoff 0.1 s doubling to 2 s, as the Java client does.
 */
export const SERVICE_CONFIG = JSON.stringify({
  loadBalancingConfig: [{ pick_first: {} }],
  methodConfig: [{
    name: IDEMPOTENT_METHODS.map((m) => {
      // "/lightspeed.orchestrator.v1.OrchestratorService/EnqueueBatch" → service and method
      const [, service, method] = OrchestratorServiceService[m].path.split("/");
      return { service, method };
    }),
    retryPolicy: {
      maxAttempts: 4, initialBackoff: "0.1s", maxBackoff: "2s", backoffMultiplier: 2,
      retryableStatusCodes: ["UNAVAILABLE"],
    },
  }],
});

/**
 * ["10.0.0.1:50051", "10.0.0.2:50051"] → { target: "ipv4:10.0.0.1:50051,10.0.0.2:50051",
 * authority: "10.0.0.1:50051" }. Throws for a host name, a missing port or a mix of IPv4 and IPv6.
 */
export function channelTarget(targets: readonly string[]): { target: string; authority: string } {
  if (targets.length === 0) {
    throw new Error("at least one target");
  }
  const families = new Set<number>();
  const addresses = targets.map((raw) => {
    const t = raw.trim();
    const colon = t.lastIndexOf(":");
    let host = colon < 0 ? "" : t.slice(0, colon);
    const port = colon < 0 ? "" : t.slice(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    const family = isIP(host);
    if (family === 0 || !/^\d+$/.test(port)) {
      throw new Error(`each of several targets must be IP:PORT (got '${raw}'); grpc-js lists only IP`
        + " addresses: for host names use one DNS name with an address per node, e.g."
        + " dns:///orchestrator.internal:50051");
    }
    families.add(family);
    return family === 4 ? `${host}:${port}` : `[${host}]:${port}`;
  });
  if (families.size > 1) {
    throw new Error(`several targets must all be IPv4 or all IPv6 (got ${targets.join(", ")})`);
  }
  return { target: (families.has(4) ? "ipv4:" : "ipv6:") + addresses.join(","), authority: targets[0].trim() };
}

// The one client of the page: the OrchestratorService over gRPC-Web (binary), the same service
// and the same handlers that the gRPC port serves. The bearer token, when the server wants one,
// lives in sessionStorage and goes in the authorization header: no cookies, so no CSRF.
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { OrchestratorService } from "./gen/lightspeed/orchestrator/v1/orchestrator_service_pb";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb";

const TOKEN_KEY = "lightspeed.token";

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const bearer: Interceptor = (next) => async (req) => {
  const t = token();
  if (t) req.header.set("authorization", `Bearer ${t}`);
  return next(req);
};

export const api: Client<typeof OrchestratorService> = createClient(
  OrchestratorService,
  createGrpcWebTransport({ baseUrl: location.origin, interceptors: [bearer] }),
);

/** What the token may do, from GET /dashboard/session (the server enforces it regardless). */
export interface Session {
  auth: boolean;
  name?: string;
  roles: string[];
  error?: string;
}

export async function session(): Promise<Session> {
  const t = token();
  const resp = await fetch("/dashboard/session", {
    headers: t ? { authorization: `Bearer ${t}` } : {},
    cache: "no-store",
  });
  const body = (await resp.json()) as Session;
  if (!body.roles) body.roles = [];
  return body;
}

/** "NOT_FOUND PIPELINE_NOT_FOUND: no pipeline named 'x'", the way the CLI prints an error. */
export function describeError(e: unknown): string {
  if (e instanceof ConnectError) {
    const code = Code[e.code] ?? String(e.code);
    const snake = code.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
    const info = e.findDetails(ErrorInfoSchema)[0];
    return `${snake}${info ? " " + info.reason : ""}: ${e.rawMessage}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Whether an error means the server is not reachable now (restarting, network). */
export function unreachable(e: unknown): boolean {
  if (!(e instanceof ConnectError)) return true;
  if (e.code === Code.Unavailable) return true;
  return (e.code === Code.Unknown || e.code === Code.Internal || e.code === Code.Canceled)
    && /fetch|network|NetworkError|load failed/i.test(e.rawMessage);
}

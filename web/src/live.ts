// The live stream of one pipeline. Today: WatchStarted (every started batch), reconnecting with
// back-off when the server goes away. When WatchEvents (API v2, an event log) lands, this is
// the one file to change: it then also delivers acks, failures and actions, and the page's
// 2 s GetStatus poll can go.
import { ConnectError, Code } from "@connectrpc/connect";
import { api, describeError } from "./api";
import { reportError, reportOk } from "./connection";
import type { StartedBatch } from "./gen/lightspeed/orchestrator/v1/batch_pb";

export interface LiveHandlers {
  onStarted(b: StartedBatch): void;
  onState(text: string): void;
}

export function watchPipeline(name: string, alive: () => boolean, on: LiveHandlers): void {
  let backoff = 500;
  const controller = new AbortController();
  const run = async () => {
    while (alive()) {
      try {
        on.onState("live (WatchStarted)");
        for await (const resp of api.watchStarted({ pipeline: name },
          { signal: controller.signal })) {
          backoff = 500;
          reportOk();
          if (resp.started) on.onStarted(resp.started);
          if (!alive()) break;
        }
        // The server ended the stream (it is shutting down): watch again.
      } catch (e) {
        if (!alive()) break;
        if (e instanceof ConnectError && e.code === Code.ResourceExhausted) {
          on.onState(`stream cut off (${describeError(e)}); re-watching`);
        } else if (!reportError(e)) {
          on.onState(`stream error: ${describeError(e)}; retrying`);
        } else {
          on.onState("server unreachable; reconnecting…");
        }
      }
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
    controller.abort();
  };
  void run();
  const stop = setInterval(() => {
    if (!alive()) {
      controller.abort();
      clearInterval(stop);
    }
  }, 500);
}

// WatchEvents, the pipeline's event log (API v2), two ways:
// - watchEvents: one stream held open while a pipeline's page is shown. It resumes after the
//   last event id it saw (no gap, no duplicate) when the server goes away and comes back, and
//   tells the page to reconcile its lists when events were lost (EVENTS_EXPIRED) or on each
//   (re)connect.
// - catchUp: a short read, for the overview, which cannot hold a stream per row (a browser
//   opens at most 6 HTTP/1.1 connections to one origin), and for filling a chart with the
//   retained history: it reads what was appended after an id and stops once the stream goes
//   quiet. Stopping early loses nothing: the next catch-up resumes after the last id it got.
import { Code, ConnectError } from "@connectrpc/connect";
import { api, describeError } from "./api";
import { reportError, reportOk } from "./connection";
import type { Event, EventType } from "./gen/lightspeed/orchestrator/v1/event_pb";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb";

export interface EventHandlers {
  onEvent(e: Event): void;
  onState(text: string): void;
  /** The stream is (re)opened: refresh what may have changed meanwhile. */
  onConnected(): void;
}

/** With EVENTS_EXPIRED: the oldest event id still retained (from the ErrorInfo metadata). */
function oldestRetained(e: unknown): bigint | null {
  if (!(e instanceof ConnectError) || e.code !== Code.OutOfRange) return null;
  const info = e.findDetails(ErrorInfoSchema)[0];
  const id = info?.reason === "EVENTS_EXPIRED" ? info.metadata.oldest_event_id : undefined;
  return id ? BigInt(id) : null;
}

/** Watches from after {@code startAfter} (absent: from now) until alive() turns false. */
export function watchEvents(name: string, alive: () => boolean, on: EventHandlers,
                            startAfter?: bigint): void {
  let backoff = 500;
  let lastId: bigint | undefined = startAfter;
  const controller = new AbortController();
  const run = async () => {
    while (alive()) {
      try {
        // The headers would say when the server has registered the stream, but over the HTTP
        // port they come only with the first event (Armeria's gRPC-Web), so the page cannot
        // wait for them: it refreshes at once, and a resumed stream misses nothing anyway.
        const stream = api.watchEvents({ pipeline: name, afterEventId: lastId, types: [] },
          { signal: controller.signal, onHeader: () => { backoff = 500; } });
        on.onState(lastId === undefined ? "live (WatchEvents, from now)"
          : lastId === 0n ? "live (WatchEvents, from the first event)"
          : `live (WatchEvents, after event ${lastId})`);
        on.onConnected();
        for await (const resp of stream) {
          if (!alive()) break;
          backoff = 500;
          reportOk();
          if (!resp.event) continue;
          lastId = resp.event.eventId;
          on.onEvent(resp.event);
        }
        // The server ended the stream (it is shutting down): resume.
      } catch (e) {
        if (!alive()) break;
        const oldest = oldestRetained(e);
        if (oldest !== null) {
          // Events between lastId and oldest are gone: resume from the oldest; onConnected
          // reconciles the lists.
          lastId = oldest - 1n;
          on.onState(`events up to ${oldest - 1n} expired; resuming`);
          continue;
        }
        if (e instanceof ConnectError && e.code === Code.ResourceExhausted) {
          on.onState(`stream cut off (${describeError(e)}); resuming`);
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

/**
 * The events after {@code afterId} (0: every retained one), read until the stream has been
 * quiet for {@code quietMs} (3 × quietMs before the first event or the headers: the server
 * sends neither while there is nothing to replay), or for {@code maxMs} at most.
 * Returns the events and the last id seen (afterId when none came). When the events after
 * afterId have expired, reads from the oldest retained one instead.
 */
export async function catchUp(name: string, afterId: bigint, types: EventType[],
                              quietMs = 250, maxMs = 3000):
    Promise<{ events: Event[]; lastId: bigint }> {
  try {
    return await catchUpOnce(name, afterId, types, quietMs, maxMs);
  } catch (e) {
    const oldest = oldestRetained(e);
    if (oldest === null) throw e;
    return catchUpOnce(name, oldest - 1n, types, quietMs, maxMs);
  }
}

async function catchUpOnce(name: string, afterId: bigint, types: EventType[], quietMs: number,
                           maxMs: number): Promise<{ events: Event[]; lastId: bigint }> {
  const controller = new AbortController();
  const events: Event[] = [];
  let lastId = afterId;
  let quiet: ReturnType<typeof setTimeout> | undefined;
  const idle = () => {
    clearTimeout(quiet);
    quiet = setTimeout(() => controller.abort(), quietMs);
  };
  const guard = setTimeout(() => controller.abort(), maxMs);
  quiet = setTimeout(() => controller.abort(), 3 * quietMs);
  try {
    for await (const resp of api.watchEvents({ pipeline: name, afterEventId: afterId, types },
      { signal: controller.signal, onHeader: idle })) {
      if (resp.event) {
        events.push(resp.event);
        lastId = resp.event.eventId;
      }
      idle();
    }
  } catch (e) {
    if (!controller.signal.aborted) throw e;
  } finally {
    clearTimeout(quiet);
    clearTimeout(guard);
  }
  return { events, lastId };
}

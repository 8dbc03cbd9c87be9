// One pipeline: status and actions, stages and connectors, batches by state (paged on the
// server, with a key search), retries, dead letters (redrive / discard, one or selected), runs,
// the audit log, a throughput chart and a live feed. Live: one WatchEvents stream (API v2)
// carries every change of the pipeline; each event goes into the feed and the chart and
// triggers a refresh of what it changed (status debounced 300 ms, lists 1 s). The stream
// resumes after the last event id it saw; each (re)connect refreshes everything, and a slow
// 30 s poll reconciles anyway.
import { create } from "@bufbuild/protobuf";
import { api, describeError } from "./api";
import { RateChart } from "./chart";
import { poll, reportError, reportOk } from "./connection";
import { ago, clear, h, setText, time } from "./dom";
import { BatchState, type BatchView } from "./gen/lightspeed/orchestrator/v1/batch_pb";
import {
  OperatorActionSchema, type OperatorAction,
} from "./gen/lightspeed/orchestrator/v1/operator_pb";
import type { Event as PipelineEvent } from "./gen/lightspeed/orchestrator/v1/event_pb";
import { EventType } from "./gen/lightspeed/orchestrator/v1/event_pb";
import { catchUp, watchEvents } from "./events";
import { oldestReadyAt } from "./oldest";
import { modeName } from "./overview";
import { Throughput } from "./throughput";
import { guard, NEEDS } from "./roles";

type ActionCase = NonNullable<OperatorAction["action"]["case"]>;

const PAGE = 50;
const REPLAY_MAX = 1000n;

export function renderPipeline(root: HTMLElement, name: string, alive: () => boolean): void {
  const flash = h("div", { id: "flash", class: "flash", hidden: true });
  const status = h("dl", { class: "status", id: "status" });
  const statusCells: Record<string, HTMLElement> = {};
  for (const [k, label] of [["mode", "mode"], ["queued", "queued"], ["retry", "retry wait"],
    ["inflight", "in flight"], ["dead", "dead letters"], ["oldest", "oldest ready"],
    ["max", "max in flight"],
    ["run", "active run"], ["valid", "valid"], ["sig", "signature"]]) {
    statusCells[k] = h("dd", { id: `status-${k}` }, "…");
    status.append(h("div", {}, h("dt", {}, label), statusCells[k]));
  }

  function say(text: string, bad = false): void {
    flash.hidden = false;
    flash.className = bad ? "flash bad" : "flash";
    flash.textContent = text;
  }

  async function act(label: string, c: ActionCase, value: Record<string, unknown> = {}) {
    try {
      await api.applyAction({
        pipeline: name,
        action: create(OperatorActionSchema, { action: { case: c, value } as never }),
      });
      say(`${label}: done`);
      void refreshAll();
    } catch (e) {
      say(`${label}: ${describeError(e)}`, true);
    }
  }

  const op = (label: string, id: string, f: () => void) =>
    guard(h("button", { type: "button", id, onclick: f }, label), NEEDS.applyAction);

  const maxInput = h("input", { type: "number", min: "1", id: "max-in-flight", size: "6" });
  const actions = h("div", { class: "toolbar", id: "actions" },
    op("Pause", "action-pause", () => act("Pause", "pause")),
    op("Resume", "action-resume", () => act("Resume", "resume")),
    op("Drain", "action-drain", () => act("Drain", "drain")),
    h("label", {}, "max in flight ", maxInput),
    op("Set", "action-max", () => act("Set max in flight", "setMaxInFlight",
      { maxInFlight: Number(maxInput.value) })),
    guard(h("button", { type: "button", id: "run-start", onclick: async () => {
      try {
        const r = await api.startRun({ pipeline: name });
        say(`Started run #${r.run?.runId}`);
        void refreshAll();
      } catch (e) { say(`Start run: ${describeError(e)}`, true); }
    } }, "Start run"), NEEDS.startRun),
    guard(h("button", { type: "button", id: "run-complete", onclick: async () => {
      try {
        const r = await api.completeRun({ pipeline: name });
        say(`Completed run #${r.run?.runId}: ${r.run?.batchesProcessed} batches`);
        void refreshAll();
      } catch (e) { say(`Complete run: ${describeError(e)}`, true); }
    } }, "Complete run"), NEEDS.completeRun));

  const throughput = new Throughput();
  const chart = new RateChart();
  chart.el.id = "throughput-chart";
  const rates = h("span", { class: "muted", id: "rates" }, "");
  const stages = h("tbody");
  const connectors = h("tbody");
  const feed = h("ol", { id: "feed", class: "feed" });
  const feedState = h("span", { class: "muted", id: "feed-state" }, "connecting…");

  // ---- batches, paged on the server ----
  let batchState: BatchState = BatchState.QUEUED;
  let batchTokens: string[] = [""];
  let batchPage = 0;
  let keySearch = "";
  const batches = h("tbody", { id: "batches" });
  const batchInfo = h("span", { class: "muted" });
  const statePick = h("select", { id: "batch-state", onchange: (ev: Event) => {
    batchState = Number((ev.target as HTMLSelectElement).value) as BatchState;
    batchTokens = [""]; batchPage = 0; void loadBatches();
  } }, ...[BatchState.QUEUED, BatchState.IN_FLIGHT, BatchState.RETRY_WAIT,
    BatchState.DEAD_LETTERED].map((s) => h("option", { value: String(s) },
    BatchState[s].toLowerCase().replace("_", " "))));
  const keyBox = h("input", { type: "search", placeholder: "key contains", id: "batch-key" });
  const batchPrev = h("button", { type: "button", onclick: () => {
    batchPage = Math.max(0, batchPage - 1); void loadBatches();
  } }, "‹ Prev");
  const batchNext = h("button", { type: "button", onclick: () => {
    batchPage++; void loadBatches();
  } }, "Next ›");
  const searchButton = h("button", { type: "button", id: "batch-search", onclick: () => {
    keySearch = keyBox.value.trim(); batchTokens = [""]; batchPage = 0; void loadBatches();
  } }, "Search");

  /** A page of matching batches: with a key search, reads server pages until PAGE matches. */
  async function loadBatches(): Promise<void> {
    const token = batchTokens[batchPage] ?? "";
    const found: BatchView[] = [];
    let cursor = token;
    let scanned = 0;
    do {
      const resp = await api.listBatches({
        pipeline: name, pageSize: keySearch ? 1000 : PAGE, pageToken: cursor, state: batchState,
      });
      scanned += resp.batches.length;
      for (const b of resp.batches) {
        if (!keySearch || (b.batch?.key ?? "").includes(keySearch)) found.push(b);
      }
      cursor = resp.nextPageToken;
    } while (keySearch && cursor && found.length < PAGE && scanned < 200_000);
    batchTokens[batchPage + 1] = cursor;
    batchPrev.disabled = batchPage === 0;
    batchNext.disabled = !cursor;
    setText(batchInfo, `page ${batchPage + 1}${keySearch ? `, ${scanned} scanned` : ""}`);
    batches.replaceChildren(...found.slice(0, keySearch ? found.length : PAGE).map((b) =>
      h("tr", { "data-key": b.batch?.key ?? "" },
        h("td", {}, b.batch?.key ?? ""), h("td", {}, b.batch?.stage ?? ""),
        h("td", {}, String(b.batch?.records ?? 0)), h("td", {}, String(b.attempt)),
        h("td", {}, time(b.readyAtMs)), h("td", {}, time(b.leaseDeadlineMs)))));
  }

  // ---- retries, dead letters, runs, audit ----
  const retries = h("tbody", { id: "retries" });
  const dead = h("tbody", { id: "dead-letters" });
  const selected = new Set<string>();
  const runs = h("tbody", { id: "runs" });
  const audit = h("tbody", { id: "audit" });

  async function deadLetterAction(verb: "Redrive" | "Discard", keys: string[]) {
    const c: ActionCase = verb === "Redrive" ? "redriveDeadLetter" : "discardDeadLetter";
    const failures: string[] = [];
    for (const key of keys) {
      try {
        await api.applyAction({ pipeline: name,
          action: create(OperatorActionSchema, { action: { case: c, value: { key } } as never }) });
      } catch (e) {
        failures.push(`${key}: ${describeError(e)}`);
      }
    }
    keys.forEach((k) => selected.delete(k));
    say(failures.length ? `${verb}: ${failures.join("; ")}`
      : `${verb}: ${keys.length} dead letter${keys.length === 1 ? "" : "s"}`, failures.length > 0);
    void refreshAll();
  }

  async function loadLists(): Promise<void> {
    const [r, d, ru, a] = await Promise.all([
      api.listRetries({ pipeline: name, pageSize: PAGE }),
      api.listDeadLetters({ pipeline: name, pageSize: PAGE }),
      api.listRuns({ pipeline: name, pageSize: 10 }),
      api.listAuditLog({ pipeline: name, pageSize: 20 }),
    ]);
    retries.replaceChildren(...r.retries.map((x) => h("tr", {},
      h("td", {}, x.batchKey), h("td", {}, String(x.nextAttempt)), h("td", {}, x.reason),
      h("td", {}, time(x.retryAtMs)))));
    dead.replaceChildren(...d.deadLetters.map((x) => {
      const box = h("input", { type: "checkbox", class: "dl-select", onchange: (ev: Event) => {
        if ((ev.target as HTMLInputElement).checked) selected.add(x.batchKey);
        else selected.delete(x.batchKey);
      } });
      box.checked = selected.has(x.batchKey);
      return h("tr", { "data-key": x.batchKey },
        h("td", {}, box), h("td", {}, x.batchKey), h("td", {}, x.destination),
        h("td", {}, x.reason), h("td", {}, time(x.atMs)),
        h("td", {},
          guard(h("button", { type: "button", class: "dl-redrive",
            onclick: () => deadLetterAction("Redrive", [x.batchKey]) }, "Redrive"),
          NEEDS.applyAction),
          guard(h("button", { type: "button", class: "dl-discard",
            onclick: () => deadLetterAction("Discard", [x.batchKey]) }, "Discard"),
          NEEDS.applyAction)));
    }));
    runs.replaceChildren(...ru.runs.map((x) => h("tr", {},
      h("td", {}, `#${x.runId}`), h("td", {}, time(x.startedAtMs)),
      h("td", {}, time(x.completedAtMs)), h("td", {}, String(x.batchesProcessed)),
      h("td", {}, String(x.recordsProcessed)), h("td", {}, String(x.retriesScheduled)),
      h("td", {}, String(x.deadLettered)))));
    audit.replaceChildren(...a.entries.map((x) => h("tr", {},
      h("td", {}, time(x.atMs)), h("td", {}, x.action?.action.case ?? ""),
      h("td", {}, x.message))));
  }

  async function loadSpec(): Promise<void> {
    const spec = (await api.getPipeline({ name })).pipeline;
    if (!spec) return;
    stages.replaceChildren(...spec.stages.map((s) => h("tr", { "data-stage": s },
      h("td", {}, s),
      h("td", {},
        op("Pause stage", `stage-pause-${s}`, () => act(`Pause stage ${s}`, "pauseStage",
          { stage: s })),
        op("Resume stage", `stage-resume-${s}`, () => act(`Resume stage ${s}`, "resumeStage",
          { stage: s }))))));
    connectors.replaceChildren(...spec.connectors.map((c) => h("tr", { "data-connector": c.name },
      h("td", {}, c.name), h("td", {}, c.stage),
      h("td", {}, c.kind === 1 ? "source" : c.kind === 2 ? "sink" : "?"),
      h("td", {}, c.disabled ? "disabled" : "enabled"),
      h("td", {}, c.disabled
        ? op("Enable", `connector-enable-${c.name}`, () => act(`Enable ${c.name}`,
          "enableConnector", { name: c.name }))
        : op("Disable", `connector-disable-${c.name}`, () => act(`Disable ${c.name}`,
          "disableConnector", { name: c.name }))))));
  }

  // ---- status, oldest ready age and rates ----
  let readyAt: number | null = null;
  async function loadStatus(): Promise<void> {
    const s = await api.getStatus({ pipeline: name });
    const c = statusCells;
    setText(c.mode, modeName(s.mode));
    root.dataset.mode = modeName(s.mode);
    setText(c.queued, String(s.queuedCount));
    setText(c.retry, String(s.retryWaitCount));
    setText(c.inflight, String(s.inFlightCount));
    setText(c.dead, String(s.deadLetterCount));
    setText(c.max, String(s.effectiveMaxInFlight));
    setText(c.run, s.activeRunId ? `#${s.activeRunId}` : "none");
    setText(c.valid, s.valid ? "yes" : `NO: ${s.invalidReason}`);
    setText(c.sig, s.signature.slice(0, 16));
    c.sig.title = s.signature;
    readyAt = await oldestReadyAt(name, s.queuedCount, s.retryWaitCount);
    tick();
  }

  /** Once a second: the oldest ready age grows, the chart's window slides. */
  function tick(): void {
    const now = Date.now();
    setText(statusCells.oldest, readyAt === null ? "—" : ago(now - readyAt));
    statusCells.oldest.title = readyAt === null ? "nothing ready"
      : `ready since ${time(readyAt)} (the page's clock against the server's ready time)`;
    chart.draw(throughput, now);
    const r = throughput.lastMinute(now);
    setText(rates, `last minute: started ${r.started.toFixed(1)}/s, acked ${r.acked.toFixed(1)}/s`);
  }

  async function refreshAll(): Promise<void> {
    await Promise.all([loadStatus(), loadLists(), loadBatches(), loadSpec()]);
  }

  const table = (id: string, heads: string[], body: HTMLElement) =>
    h("table", { class: "grid", id }, h("thead", {}, h("tr", {}, ...heads.map((x) =>
      h("th", {}, x)))), body);

  clear(root,
    h("p", {}, h("a", { href: "#/" }, "← all pipelines")),
    h("h1", {}, name),
    flash, status, actions,
    h("section", {}, h("h2", {}, "Throughput"), chart.el, h("div", {}, rates,
      h("span", { class: "legend a" }, " started"), h("span", { class: "legend b" }, " acked"))),
    h("div", { class: "cols" },
      h("section", {}, h("h2", {}, "Stages"), table("stages", ["stage", ""], stages)),
      h("section", {}, h("h2", {}, "Connectors"),
        table("connectors", ["connector", "stage", "kind", "state", ""], connectors))),
    h("section", {}, h("h2", {}, "Batches"),
      h("div", { class: "toolbar" }, statePick, keyBox, searchButton, batchPrev, batchNext,
        batchInfo),
      table("batches-table", ["key", "stage", "records", "attempt", "ready at", "lease until"],
        batches)),
    h("section", {}, h("h2", {}, "Retries"),
      table("retries-table", ["key", "next attempt", "reason", "retry at"], retries)),
    h("section", {}, h("h2", {}, "Dead letters"),
      h("div", { class: "toolbar" },
        guard(h("button", { type: "button", id: "dl-redrive-selected",
          onclick: () => deadLetterAction("Redrive", [...selected]) }, "Redrive selected"),
        NEEDS.applyAction),
        guard(h("button", { type: "button", id: "dl-discard-selected",
          onclick: () => deadLetterAction("Discard", [...selected]) }, "Discard selected"),
        NEEDS.applyAction)),
      table("dead-letters-table", ["", "key", "destination", "reason", "at", ""], dead)),
    h("div", { class: "cols" },
      h("section", {}, h("h2", {}, "Runs"), table("runs-table",
        ["run", "started", "completed", "batches", "records", "retries", "dead"], runs)),
      h("section", {}, h("h2", {}, "Audit log"),
        table("audit-table", ["at", "action", "message"], audit))),
    h("section", {}, h("h2", {}, "Live feed ", feedState), feed));

  // After each streamed event: what it changed (debounced); after each (re)connect:
  // everything; every 30 s: everything (a reconciliation, not the source of updates).
  const later = (ms: number, f: () => Promise<void>) => {
    let pending: ReturnType<typeof setTimeout> | null = null;
    return () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        if (alive()) f().then(reportOk, reportError);
      }, ms);
    };
  };
  const statusSoon = later(300, loadStatus);
  const listsSoon = later(1000, () => Promise.all([loadLists(), loadBatches()]).then(() => {}));
  const specSoon = later(300, loadSpec);
  // The feed is drawn once a frame, from the newest 100 lines: a replay of many events after
  // a reconnect costs one DOM update, not one per event.
  let lines: PipelineEvent[] = [];
  const drawFeed = () => {
    const fresh = lines.slice(-100).reverse();
    lines = [];
    feed.prepend(...fresh.map((e) => h("li", { "data-type": e.payload.case ?? "" },
      describeEvent(e))));
    while (feed.childElementCount > 100) feed.lastElementChild?.remove();
  };
  const handlers = {
    onState(text: string) { setText(feedState, text); },
    onConnected() { statusSoon(); listsSoon(); specSoon(); },
    onEvent(e: PipelineEvent) {
      const p = e.payload;
      if (p.case === "started") throughput.note(Number(e.atMs), "started");
      if (p.case === "acked") throughput.note(Number(e.atMs), "acked");
      if (!lines.length) requestAnimationFrame(drawFeed);
      lines.push(e);
      statusSoon();
      listsSoon();
      if (p.case === "actionApplied") specSoon();
    },
  };
  // First the retained history: every event but the enqueues (the feed shows the newest, the
  // chart counts the started and acked ones); then the stream, unfiltered, after the last of them, so that it misses
  // nothing between the two. Only when no such event is retained (a pipeline that has only
  // had enqueues) does it start from the first event, or from now when that would replay more
  // than REPLAY_MAX enqueues.
  setText(feedState, "reading the retained events…");
  const notEnqueued = [EventType.STARTED, EventType.LEASE_EXPIRED, EventType.ACKED,
    EventType.RETRY_SCHEDULED, EventType.DEAD_LETTERED, EventType.ACTION_APPLIED,
    EventType.RUN_STARTED, EventType.RUN_COMPLETED];
  void Promise.all([catchUp(name, 0n, notEnqueued, 250, 10_000), api.getStatus({ pipeline: name })])
    .then(([got, s]) => {
      // They go into the feed too (its newest 100), and the chart.
      got.events.forEach(handlers.onEvent);
      if (got.lastId > 0n) return got.lastId;
      return s.queuedCount + s.retryWaitCount + BigInt(s.inFlightCount) <= REPLAY_MAX
        ? 0n : undefined;
    }, () => undefined)
    .then((from) => {
      tick();
      if (alive()) watchEvents(name, alive, handlers, from);
    });
  const ticker = setInterval(() => (alive() ? tick() : clearInterval(ticker)), 1000);
  let first = true;
  poll(30_000, alive, async () => {
    if (first) { first = false; await refreshAll(); }
    else await Promise.all([loadStatus(), loadLists(), loadBatches()]);
  });
}

/** One line of the live feed: "12:00:01Z #42 acked b1 (load, attempt 1)". */
export function describeEvent(e: PipelineEvent): string {
  const p = e.payload;
  const at = `${time(e.atMs).slice(11)} #${e.eventId}`;
  switch (p.case) {
    case "enqueued":
      return `${at} enqueued ${p.value.key} (${p.value.stage}, ${p.value.records} records)`;
    case "started":
      return `${at} started ${p.value.batch?.key} (${p.value.batch?.stage}, attempt `
        + `${p.value.attempt}${p.value.runId ? `, run #${p.value.runId}` : ""})`;
    case "leaseExpired":
      return `${at} lease expired ${p.value.key} (attempt ${p.value.attempt})`;
    case "acked":
      return `${at} acked ${p.value.batchKey} (${p.value.stage}, attempt ${p.value.attempt}, `
        + `${p.value.records} records)`;
    case "retryScheduled":
      return `${at} retry scheduled ${p.value.batchKey} (attempt ${p.value.nextAttempt} at `
        + `${time(p.value.retryAtMs)}: ${p.value.reason})`;
    case "deadLettered":
      return `${at} dead-lettered ${p.value.batchKey} (${p.value.reason})`;
    case "actionApplied":
      return `${at} action ${p.value.action?.action.case ?? ""}: ${p.value.message}`;
    case "runStarted":
      return `${at} run #${p.value.runId} started`;
    case "runCompleted":
      return `${at} run #${p.value.runId} completed: ${p.value.batchesProcessed} batches`;
    default:
      return `${at} event`;
  }
}

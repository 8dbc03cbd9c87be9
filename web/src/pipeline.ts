// One pipeline: status and actions, stages and connectors, batches by state (paged on the
// server, with a key search), retries, dead letters (redrive / discard, one or selected), runs,
// the audit log and a live feed. Live: WatchStarted streams the started batches (the feed and
// the started/s rate) and each event triggers a status refresh; GetStatus is also polled every
// 2 s for what WatchStarted does not carry. When WatchEvents lands (API v2), live.ts swaps the
// stream and everything here stays.
import { create } from "@bufbuild/protobuf";
import { api, describeError } from "./api";
import { RateChart } from "./chart";
import { poll, reportError, reportOk } from "./connection";
import { clear, h, setText, time } from "./dom";
import { BatchState, type BatchView } from "./gen/lightspeed/orchestrator/v1/batch_pb";
import {
  OperatorActionSchema, type OperatorAction,
} from "./gen/lightspeed/orchestrator/v1/operator_pb";
import { watchPipeline } from "./live";
import { modeName } from "./overview";
import { guard, NEEDS } from "./roles";

type ActionCase = NonNullable<OperatorAction["action"]["case"]>;

const PAGE = 50;

export function renderPipeline(root: HTMLElement, name: string, alive: () => boolean): void {
  const flash = h("div", { id: "flash", class: "flash", hidden: true });
  const status = h("dl", { class: "status", id: "status" });
  const statusCells: Record<string, HTMLElement> = {};
  for (const [k, label] of [["mode", "mode"], ["queued", "queued"], ["retry", "retry wait"],
    ["inflight", "in flight"], ["dead", "dead letters"], ["max", "max in flight"],
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

  const chart = new RateChart();
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

  // ---- status and rates ----
  let lastInFlight: number | null = null;
  let lastAt = 0;
  let startedSince = 0;
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
    const now = Date.now();
    if (lastInFlight !== null && now - lastAt >= 1000) {
      const secs = (now - lastAt) / 1000;
      const started = startedSince / secs;
      // Finished = started − growth of in-flight: acked plus failed, per second.
      const finished = Math.max(0, (startedSince - (s.inFlightCount - lastInFlight)) / secs);
      chart.add(now, started, finished);
      setText(rates, `started ${started.toFixed(1)}/s, finished ${finished.toFixed(1)}/s`);
      startedSince = 0;
      lastAt = now;
      lastInFlight = s.inFlightCount;
    } else if (lastInFlight === null) {
      lastAt = now;
      lastInFlight = s.inFlightCount;
    }
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
      h("span", { class: "legend a" }, " started"), h("span", { class: "legend b" }, " finished"))),
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

  // Status every 2 s and after each streamed event (debounced); the lists every 5 s.
  let pending: ReturnType<typeof setTimeout> | null = null;
  watchPipeline(name, alive, {
    onState(text) { setText(feedState, text); },
    onStarted(sb) {
      startedSince++;
      feed.prepend(h("li", {}, `${time(sb.startedAtMs)} started ${sb.batch?.key} `
        + `(${sb.batch?.stage}, attempt ${sb.attempt}${sb.runId ? `, run #${sb.runId}` : ""})`));
      while (feed.childElementCount > 50) feed.lastElementChild?.remove();
      if (!pending) {
        pending = setTimeout(() => {
          pending = null;
          loadStatus().then(reportOk, reportError);
        }, 300);
      }
    },
  });
  poll(2000, alive, loadStatus);
  let first = true;
  poll(5000, alive, async () => {
    if (first) { first = false; await Promise.all([loadSpec(), loadBatches(), loadLists()]); }
    else await Promise.all([loadLists(), loadBatches()]);
  });
}

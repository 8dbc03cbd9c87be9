// The overview: every pipeline with its mode, counts, oldest ready age, throughput, limit, valid
// and signature. The pipeline list is read in pages from ListPipelines; the counts of the rows
// on screen (a page of 50, so 1,000 pipelines cost 50 GetStatus calls per update, not 1,000)
// are refreshed every 2 s. Throughput and the oldest ready age come from a round-robin
// sampler over the rows on screen (see sampleRows).
import { api, describeError } from "./api";
import { RateChart } from "./chart";
import { poll, reportError, reportOk } from "./connection";
import { ago, clear, h, setText, time } from "./dom";
import { catchUp } from "./events";
import { EventType } from "./gen/lightspeed/orchestrator/v1/event_pb";
import { PipelineMode, type PipelineSpec } from "./gen/lightspeed/orchestrator/v1/pipeline_pb";
import { oldestReadyAt } from "./oldest";
import { Throughput } from "./throughput";

const ROWS_PER_PAGE = 50;

export function modeName(m: PipelineMode): string {
  return (PipelineMode[m] ?? String(m)).replace("PIPELINE_MODE_", "").toLowerCase();
}

export async function listAllPipelines(): Promise<PipelineSpec[]> {
  const all: PipelineSpec[] = [];
  let pageToken = "";
  for (let i = 0; i < 1000; i++) {
    const resp = await api.listPipelines({ pageSize: 1000, pageToken });
    all.push(...resp.pipelines);
    pageToken = resp.nextPageToken;
    if (!pageToken) break;
  }
  return all;
}

interface Row {
  tr: HTMLTableRowElement;
  cells: Record<string, HTMLTableCellElement>;
  chart: RateChart;
}

/** What the sampler knows of a pipeline; kept across redraws and pages. */
interface Sample {
  throughput: Throughput;
  lastId: bigint;
  readyAt: number | null;
  queued: bigint;
  retryWait: bigint;
  /** A sampler is reading it: the others skip it (they would count its events twice). */
  busy: boolean;
  /** The counts of the last GetStatus, and those when it was last sampled (and when). */
  counts: string;
  sampledCounts: string;
  sampledAt: number;
}

// A row whose counts have not changed is sampled again only after this long (a start and an
// ack can leave the counts as they were).
const RESAMPLE_MS = 30_000;

// Over HTTP/1.1 the browser has 6 connections to the server; the sampler's short streams
// take 2 of them and the GetStatus poll the rest. Over HTTPS (HTTP/2) there is no such limit.
const SAMPLERS = location.protocol === "https:" ? 8 : 2;

export function renderOverview(root: HTMLElement, alive: () => boolean): void {
  let pipelines: PipelineSpec[] = [];
  let page = 0;
  let filter = "";
  const rows = new Map<string, Row>();
  const samples = new Map<string, Sample>();
  const sampleOf = (name: string): Sample => {
    let x = samples.get(name);
    if (!x) {
      x = { throughput: new Throughput(), lastId: 0n, readyAt: null, queued: 0n,
        retryWait: 0n, busy: false,
        counts: "", sampledCounts: "", sampledAt: 0 };
      samples.set(name, x);
    }
    return x;
  };
  const tbody = h("tbody");
  const info = h("span", { class: "muted", id: "overview-info" });
  const error = h("div", { class: "error", hidden: true });
  const updated = h("span", { class: "muted", id: "updated" });
  const prev = h("button", { type: "button", onclick: () => { page--; draw(); } }, "‹ Prev");
  const next = h("button", { type: "button", onclick: () => { page++; draw(); } }, "Next ›");
  const search = h("input", {
    type: "search", placeholder: "filter by name", id: "pipeline-filter",
    oninput: (ev: Event) => { filter = (ev.target as HTMLInputElement).value; page = 0; draw(); },
  });
  clear(root,
    h("h1", {}, "Pipelines"),
    h("div", { class: "toolbar" }, search, prev, next, info, updated),
    error,
    h("table", { id: "pipelines", class: "grid" },
      h("thead", {}, h("tr", {},
        ...["pipeline", "mode", "queued", "retry wait", "in flight", "dead letters",
          "oldest ready", "started / acked per s", "max in flight", "run", "valid",
          "signature"].map((c) => h("th", {}, c)))),
      tbody),
    h("p", { class: "muted" },
      "Throughput: started (blue) and acked (green) per second over the last 5 minutes, "
      + "from each pipeline's WatchEvents, read a few rows at a time; the oldest ready age "
      + "from the first page of its ready batches."));

  function visible(): PipelineSpec[] {
    const f = filter.trim().toLowerCase();
    const shown = f ? pipelines.filter((p) => p.name.toLowerCase().includes(f)) : pipelines;
    const pages = Math.max(1, Math.ceil(shown.length / ROWS_PER_PAGE));
    page = Math.min(Math.max(0, page), pages - 1);
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    setText(info, `${shown.length} pipelines, page ${page + 1} of ${pages}`);
    return shown.slice(page * ROWS_PER_PAGE, (page + 1) * ROWS_PER_PAGE);
  }

  function draw(): void {
    const shown = visible();
    rows.clear();
    tbody.replaceChildren();
    for (const p of shown) {
      const cells: Record<string, HTMLTableCellElement> = {};
      const tr = h("tr", { "data-pipeline": p.name });
      tr.append(h("td", {}, h("a", { href: `#/p/${encodeURIComponent(p.name)}` }, p.name)));
      for (const c of ["mode", "queued", "retry", "inflight", "dead", "oldest", "tput", "max",
        "run", "valid", "sig"]) {
        cells[c] = h("td", { class: `c-${c}` }, "…");
        tr.append(cells[c]);
      }
      const chart = new RateChart(120, 22, false);
      cells.tput.replaceChildren(chart.el, h("span", { class: "rate" }, "…"));
      rows.set(p.name, { tr, cells, chart });
      drawSample(p.name);
      tbody.append(tr);
    }
    void refreshCounts();
  }

  async function refreshCounts(): Promise<void> {
    const names = [...rows.keys()];
    await Promise.all(names.map(async (name) => {
      const row = rows.get(name);
      if (!row) return;
      try {
        const s = await api.getStatus({ pipeline: name });
        const c = row.cells;
        setText(c.mode, modeName(s.mode));
        row.tr.dataset.mode = modeName(s.mode);
        setText(c.queued, String(s.queuedCount));
        setText(c.retry, String(s.retryWaitCount));
        setText(c.inflight, String(s.inFlightCount));
        setText(c.dead, String(s.deadLetterCount));
        const x = sampleOf(name);
        x.queued = s.queuedCount;
        x.retryWait = s.retryWaitCount;
        x.counts = `${s.queuedCount}/${s.retryWaitCount}/${s.inFlightCount}/${s.deadLetterCount}`;
        if (s.queuedCount === 0n && s.retryWaitCount === 0n) x.readyAt = null;
        drawAge(name);
        setText(c.max, String(s.effectiveMaxInFlight));
        setText(c.run, s.activeRunId ? `#${s.activeRunId}` : "—");
        setText(c.valid, s.valid ? "yes" : `NO: ${s.invalidReason}`);
        c.valid.className = s.valid ? "c-valid" : "c-valid bad";
        setText(c.sig, s.signature.slice(0, 12));
        c.sig.title = s.signature;
      } catch (e) {
        setText(row.cells.mode, describeError(e));
        throw e;
      }
    }));
    setText(updated, `updated ${new Date().toLocaleTimeString()}`);
  }

  function drawAge(name: string): void {
    const row = rows.get(name);
    const x = samples.get(name);
    if (!row || !x) return;
    setText(row.cells.oldest, x.readyAt === null ? "—" : ago(Date.now() - x.readyAt));
    row.cells.oldest.title = x.readyAt === null ? "nothing ready" : `ready since ${time(x.readyAt)}`;
  }

  function drawSample(name: string): void {
    const row = rows.get(name);
    const x = samples.get(name);
    if (!row || !x) return;
    const now = Date.now();
    row.chart.draw(x.throughput, now);
    const r = x.throughput.lastMinute(now);
    setText(row.cells.tput.lastElementChild as Element,
      `${r.started.toFixed(1)} / ${r.acked.toFixed(1)}`);
    drawAge(name);
  }

  /**
   * A few rows at a time, in turn: the started and acked events since the last one seen
   * (WatchEvents with after_event_id and a type filter, read until quiet; exact, however late)
   * and the oldest ready batch. Only rows whose counts changed are read again soon; the others
   * every 30 s. The first sample of a pipeline reads its retained started and acked events from
   * the start (at most --event-retention), which fills its chart's last 5 minutes at once.
   */
  let cursor = 0;
  async function sampleNext(): Promise<void> {
    while (alive()) {
      const names = [...rows.keys()];
      if (!names.length || document.hidden) {
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      // The next row, in turn, that is due: its counts changed since it was last sampled (a
      // start, an ack, a failure or an enqueue happened), or it was not sampled for 30 s.
      const now = Date.now();
      let name: string | undefined;
      for (let i = 0; i < names.length && !name; i++) {
        const n = names[cursor++ % names.length];
        const y = sampleOf(n);
        if (!y.busy && (y.counts !== y.sampledCounts || now - y.sampledAt > RESAMPLE_MS)) name = n;
      }
      if (!name) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      const x = sampleOf(name);
      x.sampledCounts = x.counts;
      x.sampledAt = now;
      x.busy = true;
      try {
        const got = await catchUp(name, x.lastId,
          [EventType.STARTED, EventType.ACKED]);
        x.lastId = got.lastId;
        for (const e of got.events) {
          x.throughput.note(Number(e.atMs), e.payload.case === "acked" ? "acked" : "started");
        }
        x.readyAt = await oldestReadyAt(name, x.queued, x.retryWait);
        drawSample(name);
        reportOk();
      } catch (e) {
        if (!alive()) return;
        const rate = rows.get(name)?.cells.tput.lastElementChild;
        if (!reportError(e) && rate) setText(rate, describeError(e));
        x.sampledCounts = ""; // due again
        await new Promise((r) => setTimeout(r, 2000));
      } finally {
        x.busy = false;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  for (let i = 0; i < SAMPLERS; i++) void sampleNext();
  let ticks = 0;
  const ticker = setInterval(() => {
    if (!alive()) { clearInterval(ticker); return; }
    // Ages grow every second; the charts' windows slide every 5 s.
    const draw = ++ticks % 5 === 0 ? drawSample : drawAge;
    for (const name of rows.keys()) draw(name);
  }, 1000);

  let listedAt = 0;
  poll(2000, alive, async () => {
    if (Date.now() - listedAt > 10_000 || pipelines.length === 0) {
      const fresh = await listAllPipelines();
      listedAt = Date.now();
      error.hidden = true;
      const changed = fresh.length !== pipelines.length
        || fresh.some((p, i) => p.name !== pipelines[i]?.name);
      pipelines = fresh;
      if (changed) {
        draw();
        return;
      }
    }
    await refreshCounts();
  });
}

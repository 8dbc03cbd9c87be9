// The overview: every pipeline with its mode, counts, limit, valid and signature. The pipeline
// list is read in pages from ListPipelines; the counts of the rows on screen (a page of 50, so
// 1,000 pipelines cost 50 GetStatus calls per update, not 1,000) are refreshed every 2 s.
import { api, describeError } from "./api";
import { poll } from "./connection";
import { clear, h, setText } from "./dom";
import { PipelineMode, type PipelineSpec } from "./gen/lightspeed/orchestrator/v1/pipeline_pb";

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
}

export function renderOverview(root: HTMLElement, alive: () => boolean): void {
  let pipelines: PipelineSpec[] = [];
  let page = 0;
  let filter = "";
  const rows = new Map<string, Row>();
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
          "max in flight", "run", "valid", "signature"].map((c) => h("th", {}, c)))),
      tbody),
    h("p", { class: "muted" },
      "Oldest ready batch's age and throughput are on each pipeline's page: GetStatus does not "
      + "carry them, and a per-pipeline stream for every row would not scale to 1,000 rows."));

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
      for (const c of ["mode", "queued", "retry", "inflight", "dead", "max", "run", "valid", "sig"]) {
        cells[c] = h("td", { class: `c-${c}` }, "…");
        tr.append(cells[c]);
      }
      rows.set(p.name, { tr, cells });
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

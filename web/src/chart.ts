// A small SVG line chart of a Throughput: started/s and acked/s over the last minutes. The
// svg carries the window's totals as data-started / data-acked (the browser test reads them,
// and a tooltip shows them).
import { WINDOW_MS, type Throughput } from "./throughput";

const NS = "http://www.w3.org/2000/svg";

export class RateChart {
  readonly el: SVGSVGElement;

  constructor(private readonly width = 320, private readonly height = 60,
              private readonly labelled = true) {
    this.el = document.createElementNS(NS, "svg");
    this.el.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.el.setAttribute("class", labelled ? "chart" : "chart spark");
    this.el.setAttribute("role", "img");
  }

  draw(t: Throughput, now: number): void {
    const { started, acked } = t.series(now);
    const totals = t.totals(now);
    const max = Math.max(1, ...started, ...acked);
    const n = started.length;
    const x = (i: number) => (i / Math.max(1, n - 1)) * this.width;
    const top = this.labelled ? 14 : 3;
    const y = (v: number) => this.height - 2 - (v / max) * (this.height - 2 - top);
    const line = (vs: number[]) =>
      vs.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
    this.el.replaceChildren();
    for (const [vs, cls] of [[started, "a"], [acked, "b"]] as const) {
      const path = document.createElementNS(NS, "path");
      path.setAttribute("d", line(vs));
      path.setAttribute("class", `series-${cls}`);
      this.el.append(path);
    }
    if (this.labelled) {
      const label = document.createElementNS(NS, "text");
      label.setAttribute("x", "2");
      label.setAttribute("y", "10");
      label.textContent = `max ${max.toFixed(1)}/s, last ${WINDOW_MS / 60_000} min`;
      this.el.append(label);
    }
    const title = document.createElementNS(NS, "title");
    title.textContent = `last ${WINDOW_MS / 60_000} min: ${totals.started} started, `
      + `${totals.acked} acked`;
    this.el.append(title);
    this.el.dataset.started = String(totals.started);
    this.el.dataset.acked = String(totals.acked);
  }
}

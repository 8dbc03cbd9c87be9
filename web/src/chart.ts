// A small SVG line chart of per-second rates over the last minutes (two series).
const NS = "http://www.w3.org/2000/svg";

export class RateChart {
  readonly el: SVGSVGElement;
  private readonly points: { at: number; a: number; b: number }[] = [];

  constructor(private readonly windowMs = 5 * 60_000, private readonly width = 320,
              private readonly height = 60) {
    this.el = document.createElementNS(NS, "svg");
    this.el.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.el.setAttribute("class", "chart");
    this.el.setAttribute("role", "img");
  }

  add(at: number, a: number, b: number): void {
    this.points.push({ at, a, b });
    while (this.points.length && this.points[0].at < at - this.windowMs) this.points.shift();
    this.draw(at);
  }

  private draw(now: number): void {
    const max = Math.max(1, ...this.points.map((p) => Math.max(p.a, p.b)));
    const x = (t: number) => ((t - (now - this.windowMs)) / this.windowMs) * this.width;
    const y = (v: number) => this.height - 2 - (v / max) * (this.height - 14);
    const line = (pick: (p: { a: number; b: number }) => number) =>
      this.points.map((p, i) => `${i ? "L" : "M"}${x(p.at).toFixed(1)},${y(pick(p)).toFixed(1)}`)
        .join("");
    this.el.replaceChildren();
    for (const [d, cls] of [[line((p) => p.a), "a"], [line((p) => p.b), "b"]]) {
      const path = document.createElementNS(NS, "path");
      path.setAttribute("d", d);
      path.setAttribute("class", `series-${cls}`);
      this.el.append(path);
    }
    const label = document.createElementNS(NS, "text");
    label.setAttribute("x", "2");
    label.setAttribute("y", "10");
    label.textContent = `max ${max.toFixed(1)}/s`;
    this.el.append(label);
  }
}

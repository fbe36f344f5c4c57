/* sophia's charts: a few dozen lines of SVG instead of a vendored library.
 *
 * A series (first column dates) becomes a line; a ranking (labels and one number) becomes
 * horizontal bars. Every label is set with textContent, so a value from the warehouse can
 * never become markup. Nothing here uses inline styles or eval, which the page's CSP forbids.
 */
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const DATE = /^\d{4}-\d{2}(-\d{2})?([T ][\d:.+Z-]*)?$/;
  const MAX_BARS = 25;

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function compact(value) {
    const size = Math.abs(value);
    if (size >= 1e9) return (value / 1e9).toFixed(1) + "B";
    if (size >= 1e6) return (value / 1e6).toFixed(1) + "M";
    if (size >= 1e4) return (value / 1e3).toFixed(0) + "k";
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }

  /* The shape to draw, or null: label columns first, then the first numeric column. */
  function shapeOf(columns, rows) {
    if (!rows || rows.length < 2 || !columns || columns.length < 2) return null;
    const numeric = columns.map((_, i) =>
      rows.every((row) => row[i] === null || typeof row[i] === "number") &&
      rows.some((row) => typeof row[i] === "number"));
    const value = numeric.findIndex((isNumber, i) => isNumber && i > 0);
    if (value < 1 || numeric.slice(0, value).some(Boolean)) return null;
    const labels = rows.map((row) => row.slice(0, value)
      .map((cell) => (cell === null ? "(none)" : String(cell))).join(" / "));
    const values = rows.map((row) => (typeof row[value] === "number" ? row[value] : 0));
    const dated = value === 1 && rows.every((row) => typeof row[0] === "string" && DATE.test(row[0]));
    return { kind: dated ? "line" : "bars", labels, values, title: columns[value] };
  }

  function bars(shape, width) {
    const labels = shape.labels.slice(0, MAX_BARS);
    const values = shape.values.slice(0, MAX_BARS);
    const left = Math.round(width * 0.3), row = 22, top = 6;
    const longest = Math.floor(left / 7.5); // ~7 units per character at 11px
    const height = top + labels.length * row + 6;
    const max = Math.max(...values.map(Math.abs), 1);
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `${shape.title} by ${labels.length} groups (bar chart)` });
    labels.forEach((label, i) => {
      const y = top + i * row;
      const span = Math.max(1, ((width - left - 60) * Math.abs(values[i])) / max);
      const short = label.length > longest ? label.slice(0, longest - 1) + "…" : label;
      const name = el("text", { x: left - 6, y: y + 15, "text-anchor": "end" }, short);
      name.appendChild(el("title", {}, label));
      svg.appendChild(name);
      svg.appendChild(el("rect", { class: "bar-rect", x: left, y: y + 3, width: span, height: row - 6 }));
      svg.appendChild(el("text", { x: left + span + 4, y: y + 15 }, compact(values[i])));
    });
    return svg;
  }

  function line(shape, width) {
    const height = Math.round(width * 0.4), left = 48, right = 12, top = 10, bottom = 28;
    const { labels, values } = shape;
    const low = Math.min(0, ...values), high = Math.max(...values, 1);
    // Points sit where their dates are, so a period with no rows shows as a gap in time
    // rather than two months drawn side by side; unparsable labels fall back to even steps.
    const times = labels.map((label) => Date.parse(label.length === 7 ? label + "-01" : label));
    const first = Math.min(...times), last = Math.max(...times);
    const timed = times.every(Number.isFinite) && last > first;
    const step = (i) => (labels.length === 1 ? 0 : i / (labels.length - 1));
    const x = (i) => left + (timed ? (times[i] - first) / (last - first) : step(i)) * (width - left - right);
    const y = (v) => top + ((high - v) * (height - top - bottom)) / (high - low || 1);
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `${shape.title} over ${labels.length} periods (line chart)` });
    svg.appendChild(el("line", { class: "axis", x1: left, x2: width - right, y1: y(low), y2: y(low) }));
    svg.appendChild(el("text", { x: left - 4, y: y(high) + 4, "text-anchor": "end" }, compact(high)));
    svg.appendChild(el("text", { x: left - 4, y: y(low), "text-anchor": "end" }, compact(low)));
    svg.appendChild(el("polyline", { class: "line",
      points: values.map((v, i) => `${x(i)},${y(v)}`).join(" ") }));
    values.forEach((v, i) => {
      const dot = el("circle", { class: "dot", cx: x(i), cy: y(v), r: 3 });
      dot.appendChild(el("title", {}, `${labels[i]}: ${compact(v)}`));
      svg.appendChild(dot);
    });
    const ends = labels.length > 1 ? [0, labels.length - 1] : [0];
    for (const i of ends) {
      svg.appendChild(el("text", { x: x(i), y: height - 8,
        "text-anchor": i === 0 ? "start" : "end" }, labels[i].slice(0, 10)));
    }
    return svg;
  }

  /* Draw into `container` (emptied first); true when the rows made a chart. `width` is in
   * the SVG's units: a small card draws at a narrower width so its text stays readable. */
  function render(container, columns, rows, width = 640) {
    container.replaceChildren();
    const shape = shapeOf(columns, rows);
    if (shape === null) return false;
    container.appendChild(shape.kind === "line" ? line(shape, width) : bars(shape, width));
    container.dataset.kind = shape.kind;
    return true;
  }

  window.SophiaChart = { render, shapeOf };
})();

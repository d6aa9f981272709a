// consumer-hub status page: keeps the server-rendered page live from /events (Server-Sent
// Events, one a second). No build step, no library: the table and the SVG charts are redrawn
// here the way hub/observe/page/render.py and svg.py draw them on the server.
"use strict";
(function () {
  const body = document.body;
  const only = body.dataset.consumer || "";
  const banner = document.getElementById("banner");
  const COLUMNS = ["name", "state", "backlog", "oldest_age_s", "in_per_s", "out_per_s",
    "wait_p50_s", "wait_p99_s", "duration_p50_s", "duration_p99_s", "failed", "dead_letters",
    "behind"];
  const HUB = [["received/s", [["in", "received_per_s"]]], ["decode errors", [["err", "decode_errors"]]],
    ["input paused", [["paused", "input_paused"]]], ["RSS bytes", [["rss", "rss_bytes"]]]];

  function seconds(v) {
    if (v === null || v === undefined) return "-";
    if (v <= 0) return "0s";
    if (v < 0.001) return (v * 1e6).toFixed(0) + "us";
    if (v < 1) return (v * 1000).toFixed(0) + "ms";
    if (v < 60) return v.toFixed(1) + "s";
    const pad = (n) => String(Math.floor(n)).padStart(2, "0");
    if (v < 3600) return Math.floor(v / 60) + "m" + pad(v % 60) + "s";
    return Math.floor(v / 3600) + "h" + pad((v % 3600) / 60) + "m";
  }
  function cell(key, row) {
    const v = row[key];
    if (key === "name") return String(v);
    if (key.endsWith("_per_s")) return row.kind !== "consumer" ? "" : (v === null || v === undefined) ? "-" : v.toFixed(1);
    if (key.endsWith("_s")) return row.kind === "consumer" ? seconds(v) : "";
    return (v === null || v === undefined) ? "" : String(v);
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  }
  function rowHtml(row) {
    const cells = COLUMNS.map((key) => {
      let text = esc(cell(key, row));
      if (key === "name" && row.kind === "consumer") {
        text = '<a href="/?consumer=' + encodeURIComponent(row.name) + '">' + text + "</a>";
      }
      return '<td class="' + key + '">' + text + "</td>";
    });
    const mark = row.behind ? " behind" : "";
    return '<tr class="' + row.kind + mark + '" data-name="' + esc(row.name) + '">' + cells.join("") + "</tr>";
  }
  const SPANS = {fine: 600, coarse: 360};  // the rings' sizes: a fixed time axis
  function path(values, top, w, h, span) {
    const step = w / Math.max(1, span - 1);
    let d = "", up = true;
    values.forEach((v, i) => {
      if (v === null || v === undefined) { up = true; return; }
      const x = w - (values.length - 1 - i) * step;
      const y = top > 0 ? h - (v / top) * h : h;
      d += (up ? "M" : "L") + x.toFixed(1) + "," + y.toFixed(1);
      up = false;
    });
    return d;
  }
  function chart(title, lines, w, h, span) {
    let top = 0;
    lines.forEach(([, vs]) => vs.forEach((v) => { if (v !== null && v > top) top = v; }));
    const paths = lines.map(([css, vs]) => '<path class="' + css + '" d="' + path(vs, top, w, h, span || 600) + '"/>');
    return '<svg class="chart" viewBox="0 0 ' + w + " " + h + '" width="' + w + '" height="' + h +
      '" role="img" aria-label="' + esc(title) + '"><title>' + esc(title) + "</title>" + paths.join("") +
      '<text x="3" y="11" class="top">' + esc(title) + ": max " + Number(top.toPrecision(4)) +
      "</text></svg>";
  }
  function consumerCharts(div, name, series) {
    const ring = div.dataset.ring || "fine";
    const big = Boolean(only);
    const [w, h] = big ? [900, 180] : [300, 60];
    const vs = (k) => ((series[k] || {})[ring]) || [];
    const span = SPANS[ring];
    div.innerHTML = "<h3>" + esc(name) + "</h3>" +
      chart("backlog", [["backlog", vs("backlog")]], w, h, span) +
      chart("in vs out /s", [["in", vs("in_per_s")], ["out", vs("out_per_s")]], w, h, span) +
      chart("p99 wait s", [["wait", vs("wait_p99_s")]], w, h, span);
  }
  function render(ev) {
    const rows = ev.rows.filter((r) => !only || (r.kind === "consumer" && r.name === only));
    const tbody = document.querySelector("#rows tbody");
    if (tbody) tbody.innerHTML = rows.map(rowHtml).join("");
    const section = document.getElementById("charts");
    if (section) {
      section.innerHTML = ev.rows.filter((r) => r.kind === "consumer").map((r) =>
        '<div class="charts" data-name="' + esc(r.name) + '" data-ring="fine"></div>').join("");
    }
    document.querySelectorAll(".charts[data-name]").forEach((div) => {
      consumerCharts(div, div.dataset.name, ev.history.consumers[div.dataset.name] || {});
    });
    const hub = document.getElementById("hubcharts");
    if (hub) {
      const series = ev.history.hub;
      const causes = Object.keys(series).filter((k) => k.startsWith("decode_errors:")).sort()
        .map((k) => k.slice("decode_errors:".length));
      hub.innerHTML = "<h3>hub</h3>" + HUB.map(([title, lines]) => {
        let keys = lines, label = title;
        if (title === "decode errors" && causes.length) {
          keys = lines.concat(causes.map((c, n) => ["err" + (n % 4), "decode_errors:" + c]));
          label = title + " (" + causes.join(", ") + ")";
        }
        return chart(label, keys.map(([css, key]) => [css, ((series[key] || {}).fine) || []]), 300, 60, 600);
      }).join("");
    }
    const line = document.getElementById("hubline");
    if (line) {
      const h = ev.hub, errors = Object.values(h.decode_errors || {}).reduce((a, b) => a + b, 0);
      line.textContent = "hub " + h.version + " up " + seconds(h.uptime_s) + ", received " +
        h.received + " (" + (h.received_per_s || 0).toFixed(1) + "/s), backlog " + h.backlog +
        ", decode errors " + errors + ", input " + (h.input_paused ? "PAUSED" : "flowing");
    }
    body.dataset.snapshotAt = ev.at.toFixed(6);
  }
  function connect() {
    const source = new EventSource("/events");
    source.onopen = () => { banner.hidden = true; body.dataset.connected = "yes"; };
    source.onmessage = (e) => {
      const ev = JSON.parse(e.data);
      window.hubEvent = ev;
      banner.hidden = true;
      render(ev);
    };
    source.onerror = () => {
      banner.hidden = false;
      body.dataset.connected = "no";
      if (source.readyState === EventSource.CLOSED) {  // given up (not 200): start over
        setTimeout(connect, 1000);
      }
    };
  }
  connect();
})();

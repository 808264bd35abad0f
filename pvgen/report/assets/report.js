// pvgen report: draws the backend-by-hook matrix and the layouts from the page's JSON, and
// sorts and filters the matrix. Every string is written as text (esc), never as markup.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const M = data.matrix, L = data.layouts, LABEL = data.states;
  const hooks = M.hooks, backends = M.backends, targets = M.targets;
  const runs = backends.map(function (b) { return new Set(b.runs); });
  const ENT = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return ENT[c]; }); }
  const FLAGS = { h: ["hot", "hot"], c: ["cs", "callee-save"], n: ["null?", "nullable"],
    d: ["dep", "deprecated"], x: ["no native", "no native implementation"] };
  const RANK = { O: 0, M: 1, N: 2, F: 3, D: 4, X: 5, A: 6 };

  const targetSelect = document.getElementById("target");
  const filterBox = document.getElementById("filter");
  const stateSelect = document.getElementById("state-filter");
  const flagSelect = document.getElementById("flag-filter");
  const table = document.getElementById("matrix-table");
  const tbody = table.querySelector(".mbody");
  const shown = document.getElementById("shown");
  const headers = Array.from(table.querySelector(".mhead .mrow").children);
  let target = 0, sortCol = null, sortDir = 1, rows = [];
  const order = hooks.map(function (_, i) { return i; });

  function cellState(hook, b) {
    if (hook[5][target] !== "1") return "A";
    if (!runs[b].has(target)) return "X";
    return hook[6][b];
  }

  function badges(flags) {
    let out = "";
    for (const f of flags) {
      if (FLAGS[f]) out += ' <span class="flag f-' + f + '" title="' + FLAGS[f][1] + '">' + FLAGS[f][0] + "</span>";
    }
    return out;
  }

  function buildMatrix() {
    const parts = [];
    for (let i = 0; i < hooks.length; i++) {
      const k = hooks[i];
      const tip = k[4] + (k[3] ? "\n\n" + k[3] : "");
      parts.push('<div class="mrow" role="row"><div class="hook" role="rowheader" title="' + esc(tip) + '"><code>' +
        esc(k[0]) + "</code>" + badges(k[2]) + "</div>");
      for (let b = 0; b < backends.length; b++) {
        const s = cellState(k, b);
        parts.push('<div class="cell s-' + s + '" role="cell">' + esc(LABEL[s]) + "</div>");
      }
      parts.push("</div>");
    }
    tbody.innerHTML = parts.join("");
    rows = Array.from(tbody.children);
    headers.forEach(function (th, c) {
      if (c > 0) th.classList.toggle("off", !runs[c - 1].has(target));
    });
    if (sortCol !== null) applyOrder();
    applyFilter();
  }

  function applyOrder() {
    order.sort(function (a, b) {
      let d = 0;
      if (sortCol === 0) d = hooks[a][0] < hooks[b][0] ? -1 : hooks[a][0] > hooks[b][0] ? 1 : 0;
      else if (sortCol !== null) d = RANK[cellState(hooks[a], sortCol - 1)] - RANK[cellState(hooks[b], sortCol - 1)];
      return d * sortDir || a - b;
    });
    const frag = document.createDocumentFragment();
    for (const i of order) frag.appendChild(rows[i]);
    tbody.appendChild(frag);
    headers.forEach(function (th, c) {
      th.setAttribute("aria-sort", c === sortCol ? (sortDir > 0 ? "ascending" : "descending") : "none");
    });
  }

  function applyFilter() {
    const text = filterBox.value.trim().toLowerCase();
    const wanted = stateSelect.value, flag = flagSelect.value;
    let count = 0;
    for (let i = 0; i < hooks.length; i++) {
      const k = hooks[i];
      let show = !text || k[0].toLowerCase().indexOf(text) >= 0;
      if (show && flag) show = flag.split("").some(function (f) { return k[2].indexOf(f) >= 0; });
      if (show && wanted) {
        show = false;
        for (let b = 0; b < backends.length && !show; b++) show = cellState(k, b) === wanted;
      }
      if (rows[i].hidden === show) rows[i].hidden = !show;
      if (show) count++;
    }
    shown.textContent = count + " of " + hooks.length + " hooks shown";
  }

  function num(v) { return v === null || v === undefined ? "\u2014" : String(v); }

  function layoutRows(rowsOfTable) {
    const parts = [];
    for (const r of rowsOfTable) {
      parts.push("<tr><td><code>" + esc(r[0]) + "</code></td><td>" + r[1] + "</td><td><code>" + esc(r[2]) +
        "</code></td><td><code>" + esc(r[3]) + "</code></td><td class=\"n\">" + num(r[4]) + "</td><td class=\"n\">" +
        num(r[5]) + "</td><td class=\"n\">" + num(r[6]) + "</td><td class=\"n\">" + num(r[7]) + "</td></tr>");
    }
    return parts.join("");
  }

  function buildLayout() {
    const t = L[targets[target].name];
    const slots = t.tables.reduce(function (n, tb) { return n + tb[6].length; }, 0);
    const open = slots <= 400;  // larger layouts open table by table, drawn when opened
    const parts = ['<p class="facts">' + esc(targets[target].name) + " (" + esc(targets[target].data_model) +
      "): pointers of " + t.pointer + " bytes; " + t.hooks + " hooks; aggregate " + t.aggregate[0] +
      " bytes, align " + t.aggregate[1] + (t.aggregate[2] ? "" : " (GNU C only)") + "; patch template " +
      t.template[0] + " bytes (" + (t.template[3].map(esc).join(", ") || "no table") + ")" +
      (t.template[2] ? "" : " (GNU C only)") + "</p>"];
    t.tables.forEach(function (tb, i) {
      parts.push('<details class="layout-table" data-table="' + i + '"' + (open ? " open" : "") + "><summary><code>" +
        esc(tb[0]) + "</code>: " + tb[1] + " bytes, align " + tb[2] + ", offset " + tb[3] + " in the aggregate" +
        (tb[4] === null ? ", not in the patch template" : ", offset " + tb[4] + " in the patch template") +
        (tb[5] ? " (GNU C only)" : "") + "; " + tb[6].length + " slots</summary>" +
        '<table class="layout"><thead><tr><th>member</th><th>kind</th><th>type</th><th>declared in</th>' +
        "<th>offset there</th><th>offset in aggregate</th><th>size</th><th>patch ID</th></tr></thead><tbody>" +
        (open ? layoutRows(tb[6]) : "") + "</tbody></table></details>");
    });
    const body = document.getElementById("layout-body");
    body.innerHTML = parts.join("");
    body.querySelectorAll("details.layout-table").forEach(function (d) {
      d.addEventListener("toggle", function () {
        const tb = d.querySelector("tbody");
        if (d.open && !tb.rows.length) tb.innerHTML = layoutRows(t.tables[+d.dataset.table][6]);
      });
    });
    document.querySelectorAll(".target-name").forEach(function (e) { e.textContent = targets[target].name; });
  }

  targetSelect.addEventListener("change", function () {
    target = +targetSelect.value;
    buildMatrix();
    buildLayout();
  });
  filterBox.addEventListener("input", applyFilter);
  stateSelect.addEventListener("change", applyFilter);
  flagSelect.addEventListener("change", applyFilter);
  headers.forEach(function (th, c) {
    th.addEventListener("click", function () {
      if (sortCol === c) sortDir = -sortDir; else { sortCol = c; sortDir = 1; }
      applyOrder();
    });
  });

  buildMatrix();
  buildLayout();
  void document.body.offsetHeight;
  window.pvgenReport = { ready: performance.now(), painted: null };
  requestAnimationFrame(function () {
    requestAnimationFrame(function () { window.pvgenReport.painted = performance.now(); });
  });
})();

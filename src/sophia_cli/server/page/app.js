/* The sophia page: a face over the JSON routes, holding no data of its own.
 *
 * Rules this file keeps:
 * - The token arrives in the URL fragment (#token=…, never sent to a server), moves to
 *   sessionStorage and leaves the address bar; every call sends it as a bearer token.
 * - Anything that came from the warehouse or the user is set with textContent, never as
 *   markup; the page's CSP forbids inline scripts besides.
 * - Every request goes to this origin (connect-src 'self').
 */
"use strict";
(function () {
  const TOKEN_KEY = "sophia.token";
  const SHOWN_ROWS = 500;
  const CARDS_AT_ONCE = 4;
  const params = new URLSearchParams(location.search);
  // How often pinned cards check for a new sync; `?every=N` (seconds) shortens it for demos.
  const POLL_S = Math.max(1, Number(params.get("every")) || 30);
  const $ = (id) => document.getElementById(id);
  const state = { token: null, answer: null, question: "", me: null, dataVersion: null,
                  suggestions: [], active: -1, suggestTimer: 0, suggestSeq: 0, suggestOff: false };

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
    }
  }

  function takeToken() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const fromLink = fragment.get("token");
    if (fromLink) {
      sessionStorage.setItem(TOKEN_KEY, fromLink);
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  async function api(path, { method = "GET", json, raw = false } = {}) {
    const headers = { Authorization: `Bearer ${state.token}` };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    const response = await fetch(path, { method, headers, body, credentials: "omit" });
    if (!response.ok) {
      let error = {};
      try { error = await response.json(); } catch (_) { /* not JSON: keep the status */ }
      if (response.status === 401) signOut("Your sign-in link has expired or is not valid: " +
                                           "ask for a new one.");
      throw new ApiError(response.status, error);
    }
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }

  function text(tag, content, className) {
    const node = document.createElement(tag);
    node.textContent = content === null || content === undefined ? "" : String(content);
    if (className) node.className = className;
    return node;
  }

  function say(message, isError) {
    const status = $("status");
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  /* ---- sign-in ---------------------------------------------------------------------- */

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    $("app").hidden = true;
    $("who").hidden = true;
    $("signout").hidden = true;
    $("signin").hidden = false;
    const why = $("signin-reason");
    why.hidden = !reason;
    why.textContent = reason || "";
  }

  function claimsOf(token) {
    // Only to label the page when /v1/me is unavailable; the server checks every call.
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const claims = JSON.parse(atob(part));
      return { subject: claims.sub, scopes: String(claims.scope || "").split(" ").filter(Boolean) };
    } catch (_) {
      return { subject: "?", scopes: [] };
    }
  }

  async function whoAmI() {
    try {
      return await api("/v1/me");
    } catch (error) {
      if (error.status === 404) return claimsOf(state.token);
      throw error;
    }
  }

  /* ---- asking ----------------------------------------------------------------------- */

  async function ask(question) {
    question = question.trim();
    if (!question) return;
    state.question = question;
    $("q").value = question;
    clearTimeout(state.suggestTimer); // typing that led here must not reopen the list
    closeSuggestions();
    history.replaceState(null, "", "/?q=" + encodeURIComponent(question));
    document.title = `${question} — sophia`;
    say("Asking…");
    $("ask-button").disabled = true;
    const started = performance.now();
    try {
      const answer = await api("/v1/ask", { method: "POST", json: { question } });
      if (state.question !== question) return; // a newer question was asked meanwhile
      showAnswer(answer, question);
      say(`Answered in ${Math.round(performance.now() - started)} ms.`);
      // For bench/page.py: milliseconds from navigation start to the first answer on screen.
      if (!document.body.dataset.firstAnswerMs) {
        document.body.dataset.firstAnswerMs = String(Math.round(performance.now()));
      }
    } catch (error) {
      if (state.question !== question) return;
      $("result").hidden = true;
      showRefusal(error);
    } finally {
      $("ask-button").disabled = false;
    }
  }

  function showRefusal(error) {
    const body = error.body || {};
    const details = body.error || {};
    const suggestions = body.suggestions || details.suggestions || [];
    $("refusal-message").textContent = details.message || error.message;
    $("refusal-hint").textContent = details.hint || "";
    const list = $("refusal-suggestions");
    list.replaceChildren();
    for (const suggestion of suggestions) {
      const item = document.createElement("li");
      const button = text("button", suggestion);
      button.type = "button";
      button.addEventListener("click", () => ask(suggestion));
      item.appendChild(button);
      list.appendChild(item);
    }
    $("refusal-try").hidden = suggestions.length === 0;
    $("refusal").hidden = false;
    say(error.status === 422 ? "Not understood." : "The question could not be answered.", true);
  }

  function understood(interpretation) {
    const facts = [];
    const add = (label, value) => {
      if (value !== null && value !== undefined && value !== "" &&
          !(Array.isArray(value) && value.length === 0)) facts.push([label, value]);
    };
    const i = interpretation || {};
    add("Metric", (i.metrics || []).map((m) => m.label || m.name).join(", "));
    add("By", (i.dimensions || []).join(", "));
    add("Only", (i.conditions || []).join("; "));
    if (i.time_range) add("When", `${i.time_range.phrase} (${i.time_range.dates})`);
    else if (i.metrics) add("When", "over all time");
    add("Dated by", i.dated_by);
    if (i.compare_to) add("Compared with", `${i.compare_to.phrase} (${i.compare_to.dates})`);
    if (i.search) add("Searched for", i.search);
    add("Understood by", i.kind || i.parser);
    add("Notes", (i.notes || []).join("; "));
    if (i.truncated) add("Rows", "the result was cut at the row limit; the CSV has every row");
    return facts;
  }

  function fillTable(table, columns, rows, limit) {
    const head = document.createElement("tr");
    columns.forEach((column, i) => {
      const numeric = rows.length > 0 && rows.every((row) => row[i] === null || typeof row[i] === "number");
      const th = text("th", column, numeric ? "num" : "");
      th.scope = "col";
      head.appendChild(th);
    });
    table.tHead.replaceChildren(head);
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const row of rows.slice(0, limit)) {
      const tr = document.createElement("tr");
      for (const cell of row) {
        const isNumber = typeof cell === "number";
        const shown = isNumber ? cell.toLocaleString("en-US", { maximumFractionDigits: 2 }) : cell;
        tr.appendChild(text("td", cell === null ? "—" : shown, isNumber ? "num" : ""));
      }
      body.appendChild(tr);
    }
  }

  function freshnessItems(list, freshness) {
    list.replaceChildren();
    for (const [source, when] of Object.entries(freshness || {})) {
      list.appendChild(text("li", when ? `${source}: synced ${ago(when)}` : `${source}: never synced`));
    }
  }

  function ago(iso) {
    const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
    if (!isFinite(seconds)) return iso;
    if (seconds < 90) return "just now";
    if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
    if (seconds < 129600) return `${Math.round(seconds / 3600)} h ago`;
    return `${Math.round(seconds / 86400)} days ago`;
  }

  function showAnswer(answer, question) {
    state.answer = answer;
    $("refusal").hidden = true;
    $("answer").textContent = answer.answer;
    const facts = $("understood");
    facts.replaceChildren();
    for (const [label, value] of understood(answer.interpretation)) {
      facts.appendChild(text("dt", label));
      facts.appendChild(text("dd", value));
    }
    $("result").hidden = false; // first, so the chart can measure the room it has
    const chart = $("chart");
    chart.hidden = false;
    // Drawn at the width it is shown at (within 360..640), so its text stays legible on a phone.
    const room = Math.min(640, Math.max(360, chart.clientWidth || 640));
    chart.hidden = !window.SophiaChart.render(chart, answer.columns, answer.rows, room);
    fillTable($("table"), answer.columns, answer.rows, SHOWN_ROWS);
    $("table-note").textContent = answer.rows.length > SHOWN_ROWS
      ? `Showing ${SHOWN_ROWS} of ${answer.rows.length} rows; the CSV has every row.` : "";
    $("sql").textContent = answer.sql;
    $("sql-box").hidden = !answer.sql;
    $("json").textContent = JSON.stringify(answer, null, 2);
    freshnessItems($("freshness"), (answer.interpretation || {}).freshness);
    $("share").href = "/?q=" + encodeURIComponent(question);
    $("result").hidden = false;
  }

  /* ---- CSV -------------------------------------------------------------------------- */

  function csvCell(value) {
    const cell = value === null || value === undefined ? "" : String(value);
    return /[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
  }

  async function downloadCsv() {
    const question = state.question;
    let blob;
    try {
      const response = await api("/v1/ask.csv", { method: "POST", json: { question }, raw: true });
      blob = await response.blob();
    } catch (error) {
      if (error.status !== 404 || !state.answer) { say(error.message, true); return; }
      // A server without the CSV route: the rows on screen are the whole answer we have.
      const lines = [state.answer.columns, ...state.answer.rows].map((r) => r.map(csvCell).join(","));
      blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" });
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = (question.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") ||
                     "answer") + ".csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  /* ---- suggestions as you type ------------------------------------------------------ */

  function closeSuggestions() {
    state.suggestSeq += 1; // an answer still on its way is no longer wanted
    state.suggestions = [];
    state.active = -1;
    $("suggestions").hidden = true;
    $("suggestions").replaceChildren();
    $("q").setAttribute("aria-expanded", "false");
    $("q").removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    state.active = index;
    const items = $("suggestions").children;
    for (let i = 0; i < items.length; i += 1) {
      items[i].setAttribute("aria-selected", String(i === index));
    }
    if (index >= 0) {
      $("q").setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    } else {
      $("q").removeAttribute("aria-activedescendant");
    }
  }

  function choose(suggestion) {
    if (suggestion.kind === "example") { ask(suggestion.text); return; }
    // A metric, dimension or value is a piece of a question: put it in the box to go on typing.
    $("q").value = suggestion.text + " ";
    closeSuggestions();
    $("q").focus();
  }

  async function suggest() {
    const typed = $("q").value;
    // Nothing typed: the example questions (what can be asked at all); one letter: too vague.
    if (state.suggestOff || typed.trim().length === 1) { closeSuggestions(); return; }
    const seq = ++state.suggestSeq;
    let found;
    try {
      found = await api("/v1/ask/suggest?limit=8&q=" + encodeURIComponent(typed));
    } catch (error) {
      if (error.status === 404) state.suggestOff = true; // a server without suggestions
      return;
    }
    if (seq !== state.suggestSeq || document.activeElement !== $("q") || $("q").value !== typed) {
      return;
    }
    const list = $("suggestions");
    list.replaceChildren();
    list.dataset.for = typed; // what these suggestions answer (the box may change again)
    state.suggestions = found.suggestions || [];
    state.suggestions.forEach((suggestion, i) => {
      const item = document.createElement("li");
      item.id = `suggestion-${i}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.appendChild(text("span", suggestion.text));
      item.appendChild(text("span", suggestion.detail || suggestion.kind, "kind"));
      // mousedown, not click: the input keeps focus and does not close the list first.
      item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(suggestion); });
      list.appendChild(item);
    });
    list.hidden = state.suggestions.length === 0;
    $("q").setAttribute("aria-expanded", String(!list.hidden));
    state.active = -1;
  }

  function onKey(event) {
    const count = state.suggestions.length;
    if (event.key === "ArrowDown" && count) {
      event.preventDefault();
      highlight((state.active + 1) % count);
    } else if (event.key === "ArrowUp" && count) {
      event.preventDefault();
      highlight(state.active <= 0 ? count - 1 : state.active - 1);
    } else if (event.key === "Enter" && state.active >= 0) {
      event.preventDefault();
      choose(state.suggestions[state.active]);
    } else if (event.key === "Escape") {
      closeSuggestions();
    }
  }

  /* ---- pinned questions ------------------------------------------------------------- */

  async function pin() {
    if (!state.question) return;
    try {
      await api("/v1/pins", { method: "POST", json: { question: state.question } });
      say("Pinned to the dashboard.");
      await loadDashboard();
    } catch (error) {
      say(error.status === 404 ? "This server cannot keep pinned questions yet." : error.message, true);
    }
  }

  async function unpin(id) {
    try {
      await api(`/v1/pins/${encodeURIComponent(id)}`, { method: "DELETE" });
      await loadDashboard();
    } catch (error) {
      say(error.message, true);
    }
  }

  async function loadDashboard() {
    let listed;
    try {
      listed = await api("/v1/pins");
    } catch (error) {
      if (error.status === 404) { $("dashboard").hidden = true; $("pin").hidden = true; }
      return;
    }
    state.dataVersion = listed.data_version;
    const cards = $("cards");
    cards.replaceChildren();
    $("dashboard-empty").hidden = listed.pins.length > 0;
    const waiting = listed.pins.map((pinned) => {
      const card = emptyCard(pinned);
      cards.appendChild(card);
      return [card, pinned];
    });
    // A few cards at a time: the token's requests in flight are capped per worker
    // (SOPHIA_TOKEN_CONCURRENCY, 8), shared with the question box and the user's other tabs.
    const worker = async () => {
      while (waiting.length) {
        const [card, pinned] = waiting.shift();
        await fillCard(card, pinned);
      }
    };
    await Promise.all(Array.from({ length: CARDS_AT_ONCE }, worker));
  }

  function emptyCard(pinned) {
    const card = document.createElement("article");
    card.className = "card";
    card.dataset.pin = pinned.id;
    const head = document.createElement("div");
    head.className = "card-head";
    const title = text("h3", "");
    const open = text("a", pinned.title || pinned.question);
    open.href = "/?q=" + encodeURIComponent(pinned.question);
    title.appendChild(open);
    head.appendChild(title);
    const remove = text("button", "Unpin");
    remove.type = "button";
    remove.setAttribute("aria-label", `Unpin “${pinned.title || pinned.question}”`);
    remove.addEventListener("click", () => unpin(pinned.id));
    head.appendChild(remove);
    card.appendChild(head);
    return card;
  }

  async function fillCard(card, pinned) {
    const parts = [];
    try {
      const answer = await api("/v1/ask", { method: "POST", json: { question: pinned.question } });
      parts.push(text("p", answer.answer, "answer"));
      const chart = document.createElement("div");
      chart.className = "chart";
      if (window.SophiaChart.render(chart, answer.columns, answer.rows, 380)) parts.push(chart);
      else if (answer.rows.length > 1) {
        const wrap = document.createElement("div");
        wrap.className = "table-wrap";
        const table = document.createElement("table");
        table.createTHead();
        table.createTBody();
        fillTable(table, answer.columns, answer.rows, 10);
        wrap.appendChild(table);
        parts.push(wrap);
      }
    } catch (error) {
      parts.push(text("p", error.message, "error"));
    }
    const stamp = text("p", `Updated ${new Date().toLocaleTimeString()}`, "help updated");
    parts.push(stamp);
    card.replaceChildren(card.firstChild, ...parts);
    card.dataset.version = state.dataVersion; // the data the card was answered against
  }

  async function watchDataVersion() {
    try {
      const current = await api("/v1/data-version");
      if (state.dataVersion !== null && current.version !== state.dataVersion) {
        await loadDashboard();
        if (state.me && state.me.scopes.includes("admin")) await loadAdmin();
        say("New data synced: pinned questions refreshed.");
      }
      state.dataVersion = current.version;
    } catch (error) {
      if (error.status === 404) return; // a server without the route: nothing to watch
    }
  }

  /* ---- operations panels (admin tokens) --------------------------------------------- */

  async function loadAdmin() {
    $("admin").hidden = false;
    const [sync, budget, spend] = await Promise.allSettled([
      api("/v1/sync/status"), api("/v1/squad/budget"), api("/v1/squad/spend?by=day&days=14"),
    ]);
    const syncBody = $("sync-status").tBodies[0];
    syncBody.replaceChildren();
    if (sync.status === "fulfilled") {
      const sources = new Map();
      for (const stream of sync.value.streams) {
        const seen = sources.get(stream.source) || { last: null, rows: 0, errors: [] };
        if (stream.last_success && (!seen.last || stream.last_success > seen.last)) seen.last = stream.last_success;
        seen.rows += stream.rows || 0;
        if (stream.last_error) seen.errors.push(`${stream.stream}: ${stream.last_error}`);
        sources.set(stream.source, seen);
      }
      for (const [source, seen] of sources) {
        const tr = document.createElement("tr");
        tr.appendChild(text("td", source));
        tr.appendChild(text("td", seen.last ? `${seen.last.slice(0, 19).replace("T", " ")} (${ago(seen.last)})` : "never"));
        tr.appendChild(text("td", seen.rows.toLocaleString("en-US"), "num"));
        tr.appendChild(text("td", seen.errors.length ? seen.errors.join("; ") : "none"));
        syncBody.appendChild(tr);
      }
    } else {
      syncBody.appendChild(rowOf([sync.reason.message]));
    }
    if (budget.status === "fulfilled") {
      const b = budget.value;
      $("budget").textContent = `$${b.spent_usd.toFixed(2)} spent of $${b.budget_usd.toFixed(2)} ` +
        `(${b.percent_used.toFixed(1)}%), $${b.remaining_usd.toFixed(2)} left, ` +
        `$${b.reserved_usd.toFixed(2)} held by calls in flight.`;
    } else {
      $("budget").textContent = budget.reason.message;
    }
    const spendBody = $("spend").tBodies[0];
    spendBody.replaceChildren();
    if (spend.status === "fulfilled") {
      for (const row of spend.value.rows) {
        spendBody.appendChild(rowOf([row.key, row.calls.toLocaleString("en-US"), row.cost_usd.toFixed(4)]));
      }
      if (spend.value.rows.length === 0) spendBody.appendChild(rowOf(["no model calls in 14 days"]));
    } else {
      spendBody.appendChild(rowOf([spend.reason.message]));
    }
  }

  function rowOf(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) tr.appendChild(text("td", cell));
    return tr;
  }

  /* ---- start ------------------------------------------------------------------------ */

  async function start() {
    state.token = takeToken();
    $("signout").addEventListener("click", () => signOut(""));
    if (!state.token) { signOut(""); return; }
    $("signin").hidden = true;
    $("app").hidden = false;
    $("ask").addEventListener("submit", (event) => { event.preventDefault(); ask($("q").value); });
    $("q").addEventListener("input", () => {
      clearTimeout(state.suggestTimer);
      state.suggestTimer = setTimeout(suggest, 120);
    });
    $("q").addEventListener("keydown", onKey);
    $("q").addEventListener("focus", () => { if (!$("q").value) suggest(); });
    $("q").addEventListener("blur", () => setTimeout(closeSuggestions, 100));
    $("csv").addEventListener("click", downloadCsv);
    $("pin").addEventListener("click", pin);

    // A shared link's question is asked at once, alongside "who am I" (a bad token makes
    // both answer 401, and either one sends the user back to sign-in).
    const first = params.get("q");
    const asked = first ? ask(first) : Promise.resolve();
    let me;
    try {
      me = await whoAmI();
    } catch (error) {
      if (error.status !== 401) signOut(`The server refused the sign-in: ${error.message}`);
      return;
    }
    state.me = me;
    const until = me.expires_at
      ? ` until ${new Date(me.expires_at * 1000).toLocaleString([], { dateStyle: "short", timeStyle: "short" })}`
      : "";
    $("who").textContent = `Signed in as ${me.subject} (${me.scopes.join(", ")})${until}`;
    $("who").hidden = false;
    $("signout").hidden = false;
    // The question first: the cards would otherwise compete with it for the worker.
    await asked;
    await loadDashboard();
    setInterval(watchDataVersion, POLL_S * 1000);
    if (me.scopes.includes("admin")) await loadAdmin();
    document.body.dataset.ready = "true";
  }

  start();
})();

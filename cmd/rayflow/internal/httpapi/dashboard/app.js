// rayflow dashboard: polls the head's API (every second while the tab is
// visible) and renders nodes, jobs, actors and tasks; follows the selected
// job's log as it grows; submits and stops jobs.
//
// Everything shown comes from the cluster (job logs, names, messages are
// the jobs' own text): it is put in the page with textContent and
// createElement only, never parsed as HTML.
"use strict";

(function () {
  const POLL_MS = 1000;
  const MAX_JOB_ROWS = 100;   // the job list shows the newest ones
  const TIMELINE_MS = 3000;   // a running job's timeline is fetched this often
  const STATES = ["PENDING", "RUNNING", "FINISHED", "FAILED", "CANCELLED"];
  const KNOWN_STATUS = new Set(["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED", "FINISHED", "CANCELLED",
    "ALIVE", "RESTARTING", "DEAD", "STOPPING"]);

  const state = {
    selected: null,   // the selected job's ID
    jobs: [],         // the last job list
    timer: null,      // the next poll
    polling: false,   // a poll is in flight
    tail: null,       // {job, offset, abort, ended}
    timelineFor: "",  // "job:status" whose timeline is shown
    timelineAt: 0,    // when it was fetched
    selectedAt: 0,    // when the job was selected (performance.now())
    jobsAsked: 0,     // job lists asked for
    jobsShown: 0,     // the newest of them shown
  };

  const $ = (id) => document.getElementById(id);

  // el makes an element with a class and text (never HTML).
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function pill(status) {
    const s = String(status || "").toUpperCase();
    return el("span", "pill " + (KNOWN_STATUS.has(s) ? "s-" + s.toLowerCase() : "s-unknown"), s || "?");
  }

  function setPill(node, status) {
    const p = pill(status);
    node.className = p.className;
    node.textContent = p.textContent;
  }

  // api fetches a path of this server: {ok, status, data}. A 404 is a
  // route this head does not have (the state API of an older head).
  async function api(path, opts) {
    let resp;
    try {
      resp = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, opts || {}));
    } catch (err) {
      return { ok: false, status: 0, error: "cannot reach the head: " + err.message };
    }
    if (resp.status === 401) loggedOut();
    let data = null;
    try { data = await resp.json(); } catch (_) { /* not JSON */ }
    const error = data && data.error ? data.error : resp.status + " " + resp.statusText;
    return { ok: resp.ok, status: resp.status, data, error };
  }

  function loggedOut() {
    const c = $("conn");
    c.className = "conn bad";
    c.replaceChildren(el("span", null, "logged out: "));
    const a = el("a", null, "log in again");
    a.href = "/";
    c.appendChild(a);
    stopPolling();
  }

  // ---------- formatting ----------

  function fmtNum(v) {
    if (typeof v !== "number") return String(v);
    return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/\.?0+$/, "");
  }

  function fmtBytes(v) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v : v.toFixed(1)) + " " + units[i];
  }

  function fmtResource(name, v) {
    return /memory|bytes|store/i.test(name) && v >= 1 << 20 ? fmtBytes(v) : fmtNum(v);
  }

  function fmtDuration(ms) {
    if (ms < 0 || !isFinite(ms)) return "";
    if (ms < 1000) return Math.round(ms) + " ms";
    const s = ms / 1000;
    if (s < 60) return s.toFixed(1) + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + Math.round(s % 60) + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function fmtTime(ms) {
    if (!ms) return "";
    const d = new Date(ms);
    const today = new Date();
    return d.toDateString() === today.toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }

  function fmtAge(s) {
    if (s === null || s === undefined || !isFinite(s)) return "?";
    return s < 1 ? "< 1 s ago" : fmtDuration(s * 1000) + " ago";
  }

  function short(id, n) {
    id = String(id || "");
    return id.length > n ? id.slice(0, n) + "…" : id;
  }

  function jobEnded(j) { return j.end_time !== null && j.end_time !== undefined; }

  // ---------- nodes ----------

  async function pollNodes() {
    const [st, v0] = await Promise.all([api("/api/status"), api("/api/v0/nodes")]);
    if (!st.ok && !v0.ok) {
      renderUnavailable($("nodes"), 8, st.error);
      return null;
    }
    // /api/v0/nodes has heads and heartbeat ages; /api/status has the
    // counts of each node's last heartbeat. Merge them by node ID.
    const byID = new Map();
    const nodes = [];
    for (const n of (st.ok && st.data && st.data.nodes) || []) {
      const age = n.last_heartbeat ? (Date.now() - Date.parse(n.last_heartbeat)) / 1000 : null;
      const m = { id: n.id, address: n.address, state: n.state, total: n.resources_total || {},
        avail: n.resources_available || {}, running: n.tasks_running, queued: n.tasks_queued,
        actors: n.actors, age: age !== null ? Math.max(age, 0) : null, head: false };
      byID.set(m.id, m);
      nodes.push(m);
    }
    for (const n of (v0.ok && v0.data && v0.data.result) || []) {
      let m = byID.get(n.node_id);
      if (!m) {
        m = { id: n.node_id, address: n.address, state: n.state, total: n.resources_total || {},
          avail: n.resources_available || {} };
        byID.set(m.id, m);
        nodes.push(m);
      }
      m.head = !!n.is_head;
      if (typeof n.heartbeat_age_s === "number") m.age = n.heartbeat_age_s;
    }
    nodes.sort((a, b) => (b.head - a.head) || String(a.id).localeCompare(String(b.id)));
    renderNodes(nodes, st.ok ? st.data.gcs_shards : null);
    return nodes;
  }

  function renderNodes(nodes, shards) {
    const rows = nodes.map((n) => {
      const tr = el("tr");
      tr.dataset.node = n.id;
      if (n.state !== "alive") tr.classList.add("gone");
      const id = el("td", "mono");
      id.appendChild(el("span", "node-id", n.id));
      if (n.head) id.appendChild(el("span", "tag", "head"));
      id.appendChild(el("div", "muted small", n.address || ""));
      tr.appendChild(id);
      const stTd = el("td");
      stTd.appendChild(pill(n.state === "alive" ? "ALIVE" : String(n.state || "").toUpperCase()));
      tr.appendChild(stTd);
      tr.appendChild(resourceBar(n.avail.cpu, n.total.cpu));
      const others = Object.keys(n.total).filter((k) => k !== "cpu" && n.total[k] > 0).sort();
      tr.appendChild(el("td", "small", others.map((k) =>
        k + " " + fmtResource(k, n.avail[k] || 0) + " / " + fmtResource(k, n.total[k])).join(", ") || "—"));
      tr.appendChild(el("td", "num", n.running ?? "—"));
      tr.appendChild(el("td", "num", n.queued ?? "—"));
      tr.appendChild(el("td", "num", n.actors ?? "—"));
      const age = el("td", "small", fmtAge(n.age));
      if (n.age > 3 && n.state === "alive") age.classList.add("warn");
      tr.appendChild(age);
      return tr;
    });
    $("nodes").replaceChildren(...rows);
    const alive = nodes.filter((n) => n.state === "alive").length;
    $("nodes-count").textContent = alive + " alive of " + nodes.length;
    $("gcs").textContent = shards && shards.length
      ? "GCS: " + shards.map((s) => "shard " + s.shard + " led by " + (s.leader || "nobody") + " (" + (s.replicas || []).length + " replicas)").join("; ")
      : "";
  }

  function resourceBar(avail, total) {
    const td = el("td");
    if (typeof total !== "number") { td.textContent = "—"; return td; }
    avail = typeof avail === "number" ? avail : 0;
    const used = Math.max(total - avail, 0);
    const bar = el("div", "bar");
    const fill = el("div", "fill");
    fill.style.width = (total > 0 ? Math.min(100, used / total * 100) : 0) + "%";
    bar.appendChild(fill);
    td.appendChild(bar);
    td.appendChild(el("span", "small", fmtNum(avail) + " / " + fmtNum(total)));
    return td;
  }

  function renderUnavailable(tbody, cols, why) {
    const tr = el("tr");
    const td = el("td", "muted", why);
    td.colSpan = cols;
    tr.appendChild(td);
    tbody.replaceChildren(tr);
  }

  // ---------- jobs ----------

  async function pollJobs() {
    // Lists can cross (a poll's and the one after a submission): an
    // answer older than the one shown is dropped.
    const seq = ++state.jobsAsked;
    const askedAt = performance.now();
    const r = await api("/api/jobs/");
    if (seq < state.jobsShown) return;
    state.jobsShown = seq;
    if (!r.ok || !Array.isArray(r.data)) {
      renderUnavailable($("jobs"), 5, r.status === 404 ? "not available on this head" : r.error);
      return;
    }
    state.jobs = r.data.slice().reverse(); // newest first
    if (state.selected && askedAt > state.selectedAt && !state.jobs.some((j) => j.job_id === state.selected || j.submission_id === state.selected)) {
      selectJob(null); // deleted, forgotten, or a stale link
    }
    renderJobs();
    renderSelectedJob();
  }

  function renderJobs() {
    const shown = state.jobs.slice(0, MAX_JOB_ROWS);
    const sel = state.jobs.find((j) => j.job_id === state.selected);
    if (sel && !shown.includes(sel)) shown.push(sel);
    const rows = shown.map((j) => {
      const tr = el("tr");
      tr.dataset.job = j.job_id;
      if (j.job_id === state.selected) tr.classList.add("selected");
      tr.addEventListener("click", () => selectJob(j.job_id));
      const id = el("td", "mono");
      id.appendChild(el("span", null, j.job_id));
      if (j.submission_id && j.submission_id !== j.job_id) id.appendChild(el("div", "muted small", j.submission_id));
      tr.appendChild(id);
      const st = el("td", "status");
      st.appendChild(pill(j.status));
      tr.appendChild(st);
      tr.appendChild(el("td", "small", fmtTime(j.start_time)));
      tr.appendChild(el("td", "small", fmtDuration((jobEnded(j) ? j.end_time : Date.now()) - j.start_time)));
      const act = el("td");
      if (!jobEnded(j)) {
        const b = el("button", "danger small stop", "Stop");
        b.type = "button";
        b.addEventListener("click", (ev) => { ev.stopPropagation(); stopJob(j.job_id, b); });
        act.appendChild(b);
      }
      tr.appendChild(act);
      return tr;
    });
    if (state.jobs.length > shown.length) {
      const tr = el("tr");
      const td = el("td", "muted small", "the newest " + MAX_JOB_ROWS + " of " + state.jobs.length + " jobs (rayflow job list shows all)");
      td.colSpan = 5;
      tr.appendChild(td);
      rows.push(tr);
    }
    $("jobs").replaceChildren(...rows);
    $("jobs-empty").hidden = state.jobs.length > 0;
    const running = state.jobs.filter((j) => !jobEnded(j)).length;
    $("jobs-count").textContent = running + " running of " + state.jobs.length;
  }

  async function stopJob(id, button) {
    if (button) { button.disabled = true; button.textContent = "Stopping…"; }
    const r = await api("/api/jobs/" + encodeURIComponent(id) + "/stop", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
    });
    if (!r.ok) alert("Stopping " + id + " failed: " + r.error);
    poll();
  }

  function selectJob(id) {
    if (state.selected === id) return;
    state.selected = id;
    state.selectedAt = performance.now();
    state.timelineFor = "";
    history.replaceState(null, "", id ? "#job=" + encodeURIComponent(id) : location.pathname);
    stopTail();
    $("log").textContent = "";
    $("job-tasks").replaceChildren();
    $("timeline").replaceChildren();
    $("timeline-note").textContent = "";
    renderJobs();
    renderSelectedJob();
    if (id) {
      startTail(id, 0);
      pollJobDetail();
    }
  }

  function renderSelectedJob() {
    const sec = $("job-section");
    const j = state.jobs.find((x) => x.job_id === state.selected || x.submission_id === state.selected);
    if (!state.selected || !j) { sec.hidden = true; return; }
    sec.hidden = false;
    $("job-id").textContent = j.job_id;
    setPill($("job-status"), j.status);
    $("job-submission").textContent = j.submission_id || "";
    $("job-driver").textContent = j.driver_node_id || "—";
    $("job-start").textContent = fmtTime(j.start_time);
    $("job-duration").textContent = fmtDuration((jobEnded(j) ? j.end_time : Date.now()) - j.start_time);
    $("job-message").textContent = j.message || "";
    $("job-result").textContent = j.result === null || j.result === undefined ? "—" : j.result;
    $("job-stop").hidden = jobEnded(j);
    $("job-stop").disabled = false;
    $("job-stop").textContent = "Stop";
  }

  // ---------- the selected job's log ----------

  // startTail follows GET /api/jobs/{id}/logs/tail (chunked text) from
  // offset bytes on, appending to the log pane; when the stream breaks
  // before the job ends it asks again from where it was.
  async function startTail(id, offset) {
    const ctl = new AbortController();
    const t = { job: id, offset, abort: ctl, ended: false };
    state.tail = t;
    $("log-state").textContent = "following";
    const pane = $("log");
    const text = document.createTextNode("");
    pane.appendChild(text);
    try {
      const resp = await fetch("/api/jobs/" + encodeURIComponent(id) + "/logs/tail?offset=" + offset,
        { credentials: "same-origin", cache: "no-store", signal: ctl.signal });
      if (resp.status === 404) {
        $("log-state").textContent = "the head has no such job";
        if (state.tail === t) state.tail = null;
        return;
      }
      if (!resp.ok || !resp.body) throw new Error("status " + resp.status);
      const reader = resp.body.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        t.offset += value.length;
        appendLog(pane, text, dec.decode(value, { stream: true }));
      }
      appendLog(pane, text, dec.decode());
      t.ended = true;
    } catch (err) {
      if (ctl.signal.aborted) return;
    }
    if (state.tail !== t) return;
    const j = state.jobs.find((x) => x.job_id === id);
    if (t.ended && (!j || jobEnded(j))) {
      $("log-state").textContent = "complete";
      state.tail = null;
      return;
    }
    // The stream ended early (the server's write timeout, a network
    // break): poll for the rest.
    $("log-state").textContent = "reconnecting";
    state.tail = { job: id, offset: t.offset, abort: null, ended: false, retry: true };
  }

  function appendLog(pane, text, s) {
    if (!s) return;
    const atBottom = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 4;
    text.appendData(s);
    if (atBottom) pane.scrollTop = pane.scrollHeight;
  }

  function stopTail() {
    if (state.tail && state.tail.abort) state.tail.abort.abort();
    state.tail = null;
  }

  // ---------- the selected job's tasks and timeline ----------

  async function pollJobDetail() {
    const id = state.selected;
    if (!id) return;
    if (state.tail && state.tail.retry && state.tail.job === id) startTail(id, state.tail.offset);
    const j = state.jobs.find((x) => x.job_id === id);
    const sum = await api("/api/v0/tasks/summary?job=" + encodeURIComponent(id));
    if (state.selected !== id) return;
    renderSummary($("job-tasks"), sum);
    // The timeline: while the job runs, and once more when it has ended.
    const key = id + ":" + (j ? j.status : "");
    if (state.timelineFor === key && (jobEnded(j || {}) || Date.now() - state.timelineAt < TIMELINE_MS)) return;
    const tl = await api("/api/v0/timeline?job=" + encodeURIComponent(id));
    if (state.selected !== id) return;
    state.timelineFor = key;
    state.timelineAt = Date.now();
    renderTimeline(tl);
  }

  // renderSummary draws {"result": {NAME: {STATE: n}}} as a table of
  // functions by state, with a total per state above it.
  function renderSummary(box, r) {
    if (!r.ok) {
      box.replaceChildren(el("p", "muted", r.status === 404 ? "not available: this head has no state API" : r.error));
      return 0;
    }
    const result = (r.data && r.data.result) || {};
    const names = Object.keys(result).sort();
    const totals = {};
    for (const s of STATES) totals[s] = 0;
    for (const n of names) for (const [s, c] of Object.entries(result[n])) totals[s] = (totals[s] || 0) + c;
    const chips = el("div", "chips");
    for (const s of Object.keys(totals)) {
      const c = el("span", "chip");
      c.appendChild(pill(s));
      c.appendChild(el("b", "chip-n", totals[s]));
      chips.appendChild(c);
    }
    const parts = [chips];
    if (names.length) {
      const table = el("table", "grid compact");
      const head = el("tr");
      head.appendChild(el("th", null, "Function"));
      for (const s of STATES) head.appendChild(el("th", "num", s.toLowerCase()));
      const thead = el("thead");
      thead.appendChild(head);
      table.appendChild(thead);
      const body = el("tbody");
      for (const n of names) {
        const tr = el("tr");
        tr.appendChild(el("td", "mono", n));
        for (const s of STATES) tr.appendChild(el("td", "num", result[n][s] || 0));
        body.appendChild(tr);
      }
      table.appendChild(body);
      parts.push(table);
    } else {
      parts.push(el("p", "muted small", "no tasks recorded"));
    }
    if (r.data && r.data.dropped) parts.push(el("p", "muted small", r.data.dropped + " older task events were dropped"));
    box.replaceChildren(...parts);
    return r.data && typeof r.data.total === "number" ? r.data.total : 0;
  }

  // renderTimeline draws a Chrome trace (complete "X" events) as bars:
  // a row per node and worker, time left to right.
  function renderTimeline(r) {
    const box = $("timeline");
    const note = $("timeline-note");
    if (!r.ok || !Array.isArray(r.data)) {
      note.textContent = "";
      box.replaceChildren(el("p", "muted", r.status === 404 ? "not available: this head has no timeline API" : r.error));
      return;
    }
    const MAX_ROWS = 24, MAX_BARS = 3000;
    const events = r.data.filter((e) => e && e.ph === "X" && typeof e.ts === "number").slice(-MAX_BARS);
    if (!events.length) {
      note.textContent = "";
      box.replaceChildren(el("p", "muted small", "no task has run yet"));
      return;
    }
    let t0 = Infinity, t1 = -Infinity;
    for (const e of events) { t0 = Math.min(t0, e.ts); t1 = Math.max(t1, e.ts + (e.dur || 0)); }
    const span = Math.max(t1 - t0, 1);
    const rows = new Map();
    for (const e of events) {
      const key = String(e.pid) + " · " + (e.tid === -1 ? "methods" : "worker " + e.tid);
      if (!rows.has(key)) rows.set(key, []);
      rows.get(key).push(e);
    }
    const keys = [...rows.keys()].sort();
    const parts = [];
    const names = new Map(); // a colour per function name
    for (const key of keys.slice(0, MAX_ROWS)) {
      const row = el("div", "tl-row");
      row.appendChild(el("div", "tl-label mono", key));
      const lane = el("div", "tl-lane");
      for (const e of rows.get(key)) {
        if (!names.has(e.name)) names.set(e.name, names.size % 8);
        const failed = e.args && (e.args.failed || e.args.error);
        const bar = el("div", "tl-bar c" + names.get(e.name) + (failed ? " failed" : ""));
        bar.style.left = ((e.ts - t0) / span * 100) + "%";
        bar.style.width = Math.max((e.dur || 0) / span * 100, 0.3) + "%";
        bar.title = e.name + " · " + fmtDuration((e.dur || 0) / 1000) + (failed ? " · failed" : "");
        lane.appendChild(bar);
      }
      row.appendChild(lane);
      parts.push(row);
    }
    const axis = el("div", "tl-axis");
    axis.appendChild(el("span", null, "0"));
    axis.appendChild(el("span", null, fmtDuration(span / 1000)));
    parts.push(axis);
    const legend = el("div", "chips");
    for (const [name, c] of names) {
      const chip = el("span", "chip small");
      chip.appendChild(el("span", "swatch c" + c));
      chip.appendChild(el("span", "mono", name));
      legend.appendChild(chip);
    }
    parts.push(legend);
    note.textContent = events.length + " runs" + (keys.length > MAX_ROWS ? ", first " + MAX_ROWS + " of " + keys.length + " workers" : "");
    box.replaceChildren(...parts);
  }

  // ---------- actors and tasks ----------

  async function pollActors() {
    const r = await api("/api/v0/actors");
    const box = $("actors-body");
    if (!r.ok) {
      $("actors-count").textContent = "";
      box.replaceChildren(el("p", "muted", r.status === 404 ? "not available: this head has no state API" : r.error));
      return;
    }
    const actors = (r.data && r.data.result) || [];
    const alive = actors.filter((a) => a.state === "ALIVE").length;
    $("actors-count").textContent = alive + " alive of " + actors.length;
    if (!actors.length) { box.replaceChildren(el("p", "muted small", "no actors")); return; }
    const table = el("table", "grid compact");
    const head = el("tr");
    for (const h of ["Actor", "Class", "State", "Node", "Job", "Restarts"]) head.appendChild(el("th", null, h));
    const thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    const body = el("tbody");
    for (const a of actors.slice(0, 200)) {
      const tr = el("tr");
      tr.appendChild(el("td", "mono", short(a.actor_id, 24)));
      tr.appendChild(el("td", "mono", a.class_name));
      const st = el("td");
      st.appendChild(pill(a.state));
      tr.appendChild(st);
      tr.appendChild(el("td", "mono", a.node_id || "—"));
      tr.appendChild(el("td", "mono", short(a.job_id, 22)));
      tr.appendChild(el("td", "num", a.restarts ?? 0));
      body.appendChild(tr);
    }
    table.appendChild(body);
    box.replaceChildren(table);
  }

  async function pollTasks() {
    const filter = $("tasks-state").value;
    const q = "/api/v0/tasks?limit=30" + (filter ? "&state=" + encodeURIComponent(filter) : "");
    const [sum, list] = await Promise.all([api("/api/v0/tasks/summary"), api(q)]);
    const total = renderSummary($("tasks-summary"), sum);
    $("tasks-count").textContent = sum.ok ? total + " recorded" : "";
    const box = $("tasks-list");
    if (!list.ok) {
      box.replaceChildren(el("p", "muted", list.status === 404 ? "not available: this head has no state API" : list.error));
      return;
    }
    const tasks = (list.data && list.data.result) || [];
    if (!tasks.length) { box.replaceChildren(el("p", "muted small", "no tasks")); return; }
    const table = el("table", "grid compact");
    const head = el("tr");
    for (const h of ["Task", "State", "Node", "Time", "Error"]) head.appendChild(el("th", null, h));
    const thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    const body = el("tbody");
    for (const t of tasks) {
      const tr = el("tr");
      const name = el("td", "mono");
      name.appendChild(el("span", null, t.name));
      name.appendChild(el("div", "muted small", short(t.task_id, 40)));
      tr.appendChild(name);
      const st = el("td");
      st.appendChild(pill(t.state));
      tr.appendChild(st);
      tr.appendChild(el("td", "mono", t.node_id || "—"));
      const start = taskTime(t.start_time), end = taskTime(t.end_time);
      tr.appendChild(el("td", "small", start && end ? fmtDuration(end - start) : start ? "since " + fmtTime(start) : ""));
      tr.appendChild(el("td", "small error-text", t.error || ""));
      body.appendChild(tr);
    }
    table.appendChild(body);
    const parts = [table];
    if (list.data.total > tasks.length) parts.push(el("p", "muted small", "latest " + tasks.length + " of " + list.data.total));
    box.replaceChildren(...parts);
  }

  // taskTime reads a task's time: milliseconds since the epoch, or an
  // RFC 3339 string; 0 when there is none.
  function taskTime(v) {
    if (typeof v === "number") return v > 1e14 ? v / 1000 : v; // microseconds or milliseconds
    if (typeof v === "string" && v) { const t = Date.parse(v); return isNaN(t) ? 0 : t; }
    return 0;
  }

  // ---------- submitting ----------

  function parseParams(text) {
    const params = {};
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line) continue;
      const eq = line.indexOf("=");
      if (eq <= 0) throw new Error("parameter " + JSON.stringify(line) + " is not NAME=VALUE");
      params[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    return params;
  }

  async function submit(ev) {
    ev.preventDefault();
    const err = $("submit-error");
    err.textContent = "";
    const body = { source: $("submit-source").value };
    try { body.params = parseParams($("submit-params").value); } catch (e) { err.textContent = e.message; return; }
    const pipeline = $("submit-pipeline").value.trim();
    if (pipeline) body.pipeline = pipeline;
    const button = $("submit-button");
    button.disabled = true;
    const r = await api("/api/jobs/", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    button.disabled = false;
    if (!r.ok || !r.data || !r.data.job_id) { err.textContent = r.error; return; }
    await pollJobs();
    selectJob(r.data.job_id);
  }

  // ---------- the loop ----------

  function renderSummaryBar(nodes) {
    const box = $("summary");
    const parts = [];
    if (nodes) {
      const alive = nodes.filter((n) => n.state === "alive");
      let cpu = 0, free = 0;
      for (const n of alive) { cpu += n.total.cpu || 0; free += n.avail.cpu || 0; }
      parts.push(stat(alive.length + " / " + nodes.length, "nodes alive"));
      parts.push(stat(fmtNum(cpu - free) + " / " + fmtNum(cpu), "CPUs busy"));
    }
    const running = state.jobs.filter((j) => !jobEnded(j)).length;
    const failed = state.jobs.filter((j) => j.status === "FAILED").length;
    parts.push(stat(running, "jobs running"));
    parts.push(stat(failed, "jobs failed"));
    box.replaceChildren(...parts);
  }

  function stat(value, label) {
    const s = el("div", "stat");
    s.appendChild(el("b", null, value));
    s.appendChild(el("span", null, label));
    return s;
  }

  async function poll() {
    if (state.polling) return;
    state.polling = true;
    clearTimeout(state.timer);
    try {
      const [nodes] = await Promise.all([pollNodes(), pollJobs(), pollActors(), pollTasks()]);
      await pollJobDetail();
      renderSummaryBar(nodes);
      const c = $("conn");
      if (!c.classList.contains("bad")) {
        c.className = "conn ok";
        c.textContent = "live · " + new Date().toLocaleTimeString();
      }
    } catch (err) {
      $("conn").className = "conn warn";
      $("conn").textContent = "error: " + err.message;
    } finally {
      state.polling = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = null;
    if (!document.hidden && !$("conn").classList.contains("bad")) state.timer = setTimeout(poll, POLL_MS);
  }

  function stopPolling() {
    clearTimeout(state.timer);
    state.timer = null;
  }

  // A hidden tab polls nothing and follows no log; it catches up when shown.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      stopPolling();
      if (state.tail && state.tail.abort) {
        const t = state.tail;
        t.abort.abort();
        state.tail = { job: t.job, offset: t.offset, abort: null, ended: false, retry: true };
      }
      $("conn").className = "conn";
      $("conn").textContent = "paused";
    } else {
      poll();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("submit-form").addEventListener("submit", submit);
    $("job-stop").addEventListener("click", () => { if (state.selected) stopJob(state.selected, $("job-stop")); });
    $("job-close").addEventListener("click", () => selectJob(null));
    $("tasks-state").addEventListener("change", poll);
    const m = /^#job=(.+)$/.exec(location.hash);
    if (m) selectJob(decodeURIComponent(m[1]));
    poll();
  });
})();

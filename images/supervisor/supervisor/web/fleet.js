// The fleet page: everything it shows comes from the supervisor's API, asked with the token the
// page was opened with in its URL fragment (/ui/#token=...), which never leaves the browser
// except as the bearer header. Text goes into the page as text (textContent), never as HTML.
"use strict";

const REFRESH_MS = 5000;
const token = new URLSearchParams(location.hash.slice(1)).get("token");
let chosen = null; // the task whose transcript is shown

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  }
  return node;
}

function svg(tag, attrs = {}, text = "") {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.textContent = text;
  return node;
}

class Refused extends Error {}

async function api(path) {
  const reply = await fetch(path, {
    headers: { Authorization: `Bearer ${token}` },
    cache: "no-store",
  });
  if (reply.status === 401) throw new Refused("the supervisor refused this token (401)");
  const body = await reply.json();
  if (!reply.ok) throw new Error(`${path}: ${reply.status} ${body.error ?? ""}`);
  return body;
}

function say(text, isError) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.className = isError ? "error" : "";
  message.hidden = false;
}

function cell(value, cls) {
  return el("td", cls ? { class: cls } : {}, value);
}

function counts(tasks) {
  return [tasks.queued, tasks.running, tasks.done, tasks.failed + tasks.cancelled, tasks.tokens]
    .map((n) => cell(Number(n).toLocaleString("en"), "n"));
}

function hostState(host) {
  if (host.alive === true) return ["up", "up"];
  if (host.alive === false) return ["not seen lately", "down"];
  return ["unknown", "unknown"];
}

function renderHosts(view) {
  const rows = view.hosts.map((host) => {
    const [state, cls] = hostState(host);
    const tags = el("td", {}, ...(host.capabilities ?? [])
      .flatMap((c) => [el("span", { class: "tag" }, c), " "]));
    return el("tr", {},
      cell(host.name), cell(host.role ?? ""), tags, cell(state, `state ${cls}`),
      cell(host.sandboxes.length, "n"), ...counts(host.tasks));
  });
  document.querySelector("#hosts tbody").replaceChildren(...rows);
}

function renderSandboxes(view) {
  const blocks = view.hosts.map((host) => {
    const rows = host.sandboxes.map((s) =>
      el("tr", {}, cell(s.name), cell(s.running ? "busy" : s.queued ? "waiting" : "idle"),
        ...counts(s)));
    const head = el("tr", {}, ...["Sandbox", "Activity", "Queued", "Running", "Done", "Failed",
      "Tokens"].map((t, i) => el("th", i > 1 ? { class: "n" } : {}, t)));
    return el("div", {}, el("h3", {}, host.name),
      rows.length ? el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows))
        : el("p", {}, el("small", {}, "no sandboxes")));
  });
  document.getElementById("sandboxes").replaceChildren(...blocks);
}

function renderChart(view) {
  const hours = view.tokens_by_hour;
  const chart = document.getElementById("chart");
  const [width, height, left, bottom] = [720, 160, 48, 20];
  const top = Math.max(1, ...hours.map((h) => h.tokens));
  const step = (width - left) / Math.max(1, hours.length);
  const parts = [
    svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }),
    svg("text", { x: 2, y: 12 }, top.toLocaleString("en")),
    svg("text", { x: 2, y: height - bottom }, "0"),
  ];
  hours.forEach((h, i) => {
    const tall = ((height - bottom - 8) * h.tokens) / top;
    const bar = svg("rect", {
      class: "bar", x: left + i * step + 1, y: height - bottom - tall,
      width: Math.max(1, step - 2), height: tall,
    });
    bar.append(svg("title", {}, `${h.hour}: ${h.tokens} tokens`));
    parts.push(bar);
    if (i % 6 === 0 || i === hours.length - 1) {
      parts.push(svg("text", { x: left + i * step, y: height - 4 }, `${h.hour.slice(11, 13)}h`));
    }
  });
  chart.replaceChildren(...parts);
  document.getElementById("window").textContent =
    `(UTC, ${view.since.slice(0, 16)} to ${view.until.slice(0, 16)})`;
}

function renderTasks(view) {
  const rows = view.tasks.map((t) => {
    const row = el("tr", { "data-id": t.id },
      cell(t.id, "n"), cell(t.host), cell(t.sandbox), cell(t.status, `state ${t.status}`),
      cell(t.sender), cell(t.prompt, "cut"), cell(t.result ?? t.error ?? "", "cut"),
      cell((t.prompt_tokens + t.completion_tokens).toLocaleString("en"), "n"),
      cell(t.updated_at.slice(0, 19).replace("T", " ")));
    if (t.id === chosen) row.classList.add("chosen");
    row.addEventListener("click", () => showTask(t.id));
    return row;
  });
  document.querySelector("#tasks tbody").replaceChildren(...rows);
}

function stepText(step) {
  const rest = Object.entries(step).filter(([k]) => !["seq", "kind", "at"].includes(k));
  return rest.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("\n");
}

async function showTask(id) {
  chosen = id;
  const task = await api(`/tasks/${id}`);
  document.getElementById("task-id").textContent = `#${task.id}`;
  document.getElementById("task-where").textContent =
    `${task.sandbox}${task.host ? ` on ${task.host}` : ""}: ${task.status}`;
  const facts = [["Prompt", task.prompt], ["Result", task.result], ["Error", task.error],
    ["Commit", task.commit_sha], ["Tokens", `${task.prompt_tokens} prompt, ` +
      `${task.completion_tokens} completion`], ["Attempts", task.attempts]];
  document.getElementById("task-facts").replaceChildren(...facts
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const steps = task.steps.map((s) =>
    el("li", {}, el("strong", {}, s.kind), " ", el("small", {}, s.at), el("pre", {}, stepText(s))));
  document.getElementById("steps").replaceChildren(
    ...(steps.length ? steps : [el("li", {}, el("small", {}, "no steps recorded"))]));
  document.getElementById("transcript").hidden = false;
  for (const row of document.querySelectorAll("#tasks tbody tr")) {
    row.classList.toggle("chosen", Number(row.dataset.id) === id);
  }
}

async function refresh() {
  try {
    const view = await api("/fleet");
    document.getElementById("scope").textContent = view.headquarters
      ? `headquarters ${view.headquarters}: ${view.hosts.length} hosts`
      : `host ${view.hosts[0]?.name || "(unnamed)"}`;
    document.getElementById("updated").textContent = `as of ${view.until.slice(11, 19)} UTC`;
    renderHosts(view);
    renderChart(view);
    renderSandboxes(view);
    renderTasks(view);
    document.getElementById("message").hidden = true;
    document.getElementById("view").hidden = false;
    document.body.dataset.loaded = "yes";
  } catch (error) {
    say(String(error.message ?? error), true);
    if (error instanceof Refused) return; // asking again with the same token will not help
  }
  setTimeout(refresh, REFRESH_MS);
}

// A token pasted into the address bar changes only the fragment: start again with it.
window.addEventListener("hashchange", () => location.reload());

if (!token) {
  say("Open this page with the supervisor's API token: /ui/#token=TOKEN " +
    "(pulumi stack output supervisor --show-secrets shows it).", true);
} else {
  refresh();
}

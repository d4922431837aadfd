"use strict";
// The inbox page: lists a user's messages and asks for a spam verdict per message. Every call goes to this
// page's own server (/api/...), which holds the API key and forwards to user-data, model serving and the
// feature proxy; the page never sees a key. The name box is a demo login, not authentication.
// Architecture I sends the text to model serving; architecture II reads the message's stored features
// through the feature proxy and sends those, falling back to I when they are missing or the call fails.
// Every call has a deadline (AbortController), so a dead service never leaves the page hanging.

const CONFIG_TIMEOUT_MS = 5000;
const state = { config: null, user: null, nextUrl: null };

const $ = (id) => document.getElementById(id);

// The body and the response (for headers such as Link), both under one deadline.
async function fetchResponse(url, options = {}, timeoutMs = state.config.fetch_timeout_ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const where = new URL(url, window.location.href);
  try {
    const response = await fetch(url, { ...options, signal: controller.signal });
    if (!response.ok) {
      throw new Error(`${where.host}${where.pathname} answered ${response.status}${await detailOf(response)}`);
    }
    return { body: await response.json(), response }; // still under the deadline: a stalled body also aborts
  } catch (err) {
    if (err.name === "AbortError") throw new Error(`${where.host} did not answer within ${timeoutMs} ms`);
    if (err instanceof TypeError) throw new Error(`${where.host} is unreachable`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function fetchJson(url, options = {}, timeoutMs = undefined) {
  return (await fetchResponse(url, options, timeoutMs)).body;
}

async function detailOf(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? `: ${body.detail}` : "";
  } catch {
    return "";
  }
}

function postJson(url, body) {
  return fetchJson(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

// ---- verdicts ---------------------------------------------------------------------------------

function modelUrl(endpoint) {
  return `/api/model/${encodeURIComponent(state.config.model_version)}/${endpoint}`;
}

function predictFromText(sms) {
  return postJson(modelUrl("text_to_prediction"), { text: sms.sms_text });
}

// Feast answers column-wise: metadata.feature_names[i] names results[i]; one value per entity row.
function featuresFrom(answer, name) {
  const index = answer?.metadata?.feature_names?.indexOf(name) ?? -1;
  const column = index >= 0 ? answer.results?.[index] : undefined;
  const values = column?.values?.[0];
  if (column?.statuses?.[0] !== "PRESENT" || !Array.isArray(values) || values.length === 0) return null;
  return values;
}

async function predictFromFeatures(sms) {
  const { feature_service: service, feature_name: name } = state.config;
  const answer = await postJson("/api/get-online-features", {
    feature_service: service,
    entities: { sms_id: [sms.sms_id] },
  });
  const features = featuresFrom(answer, name);
  if (features === null) throw new Error("no stored features for this message");
  return postJson(modelUrl("features_to_prediction"), { features });
}

async function verdictFor(sms) {
  if (state.config.architecture === "II") {
    try {
      return { result: await predictFromFeatures(sms), architecture: "II", note: "" };
    } catch (err) {
      console.warn("architecture II failed, falling back to I:", err.message);
      return { result: await predictFromText(sms), architecture: "I", note: `fallback: ${err.message}` };
    }
  }
  return { result: await predictFromText(sms), architecture: "I", note: "" };
}

// One decimal, but never round a probability below 1 up to "100.0%".
function percent(value) {
  return value < 1 && value >= 0.9995 ? ">99.9%" : `${(value * 100).toFixed(1)}%`;
}

async function check(sms, button, output) {
  button.disabled = true;
  output.className = "verdict pending";
  output.textContent = "checking…";
  try {
    const { result, architecture, note } = await verdictFor(sms);
    const { label, value } = result.top;
    output.className = `verdict verdict-${label}`;
    output.dataset.label = label;
    output.dataset.probability = String(value);
    output.dataset.architecture = architecture;
    output.textContent = `${label} ${percent(value)} · architecture ${architecture}`;
    output.title = note || `model ${state.config.model_version}`;
    if (note) output.append(Object.assign(document.createElement("small"), { textContent: ` (${note})` }));
  } catch (err) {
    output.className = "verdict verdict-error";
    output.dataset.label = "error";
    output.textContent = `could not check: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

// ---- messages ---------------------------------------------------------------------------------

function formatTime(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value ?? "") : date.toLocaleString();
}

// textContent only: message text comes from strangers and must never be parsed as HTML.
function renderMessage(sms) {
  const item = $("message-template").content.firstElementChild.cloneNode(true);
  item.dataset.smsId = sms.sms_id;
  item.querySelector(".sender").textContent = sms.sender_id;
  const time = item.querySelector(".received");
  time.textContent = formatTime(sms.received_at);
  time.dateTime = sms.received_at ?? "";
  item.querySelector(".text").textContent = sms.sms_text;
  const button = item.querySelector(".check-button");
  button.addEventListener("click", () => check(sms, button, item.querySelector(".verdict")));
  return item;
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

// `Link: <url>; rel="next"`, as user-data (and GitHub) page lists; null on the last page.
function nextLink(response) {
  const match = /<([^>]*)>\s*;\s*rel="next"/.exec(response.headers.get("Link") ?? "");
  return match ? match[1] : null;
}

async function loadMessages({ older = false } = {}) {
  const list = $("messages");
  const url = older && state.nextUrl ? state.nextUrl : `/api/sms/${encodeURIComponent(state.user)}`;
  setStatus("loading…");
  try {
    const { body, response } = await fetchResponse(url);
    if (!older) list.replaceChildren();
    list.append(...body.map(renderMessage));
    state.nextUrl = nextLink(response);
    $("older-button").hidden = state.nextUrl === null;
    const count = list.children.length;
    setStatus(count === 0 ? `No messages for ${state.user} yet.` : `${count} message${count === 1 ? "" : "s"}`);
  } catch (err) {
    setStatus(`Could not load messages: ${err.message}`, true);
  }
}

function openInbox(event) {
  event.preventDefault();
  const name = $("user-name").value.trim();
  if (!name) return;
  state.user = name;
  state.nextUrl = null;
  $("inbox-title").textContent = `Messages for ${name}`;
  $("inbox").hidden = false;
  loadMessages();
}

// ---- start ------------------------------------------------------------------------------------

async function start() {
  try {
    state.config = await fetchJson("/config.json", {}, CONFIG_TIMEOUT_MS);
  } catch (err) {
    $("arch-badge").textContent = "configuration unavailable";
    $("login-button").disabled = true;
    return;
  }
  const { architecture, model_version: version } = state.config;
  $("arch-badge").textContent = `architecture ${architecture} · model ${version}`;
  document.body.dataset.ready = "true"; // lets tests (and people) know the page is wired up
  $("login-form").addEventListener("submit", openInbox);
  $("refresh-button").addEventListener("click", () => loadMessages());
  $("older-button").addEventListener("click", () => loadMessages({ older: true }));
}

start();

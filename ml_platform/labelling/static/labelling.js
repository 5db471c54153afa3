// Keyboard labelling, undo, admin changes and sign-out: JSON calls that carry the page's CSRF
// token. Nothing here builds HTML from data: pages are rendered (and escaped) by the server.
"use strict";

function csrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(body || {}),
  });
  let answer = {};
  try { answer = await response.json(); } catch (error) { answer = {}; }
  if (!response.ok) {
    const detail = typeof answer.detail === "string" ? answer.detail : JSON.stringify(answer.detail);
    throw new Error(`${response.status}: ${detail}`);
  }
  return answer;
}

function say(text) {
  const status = document.getElementById("status");
  if (status) status.textContent = text;
}

function labelling(root) {
  const queue = root.dataset.queue;
  const item = root.dataset.item;
  const keys = JSON.parse(root.dataset.keys || "{}");
  const note = document.getElementById("note");
  let busy = false;

  async function send(action, label) {
    if (busy || !item) return;
    busy = true;
    try {
      await call(`/api/queues/${encodeURIComponent(queue)}/labels`, {
        item_id: item, action: action, label: label,
        note: note && note.value ? note.value : null, item_version: root.dataset.version || null,
      });
      window.location.assign(`/queues/${encodeURIComponent(queue)}`);
    } catch (error) { say(error.message); busy = false; }
  }

  async function undo() {
    if (busy) return;
    busy = true;
    try {
      const answer = await call(`/api/queues/${encodeURIComponent(queue)}/undo`);
      window.location.assign(
        `/queues/${encodeURIComponent(queue)}?item=${encodeURIComponent(answer.item_id)}`);
    } catch (error) { say(error.message); busy = false; }
  }

  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLTextAreaElement || event.target instanceof HTMLInputElement;
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key in keys) { event.preventDefault(); send("label", keys[key]); }
    else if (key === "s") { event.preventDefault(); send("skip", null); }
    else if (key === "u") { event.preventDefault(); undo(); }
  });
  root.querySelectorAll("button.choice").forEach((button) =>
    button.addEventListener("click", () => send("label", button.dataset.label)));
  root.querySelectorAll("button.skip").forEach((button) =>
    button.addEventListener("click", () => send("skip", null)));
  root.querySelectorAll("button.undo").forEach((button) => button.addEventListener("click", undo));
}

function admin() {
  document.querySelectorAll("input.assignment").forEach((box) =>
    box.addEventListener("change", async () => {
      try {
        await call("/api/admin/assignments", {
          annotator: box.dataset.annotator, queue: box.dataset.queue, assigned: box.checked });
        say(`${box.dataset.annotator}: ${box.dataset.queue} ${box.checked ? "assigned" : "unassigned"}`);
      } catch (error) { say(error.message); box.checked = !box.checked; }
    }));
  document.querySelectorAll("form.queue-settings").forEach((form) =>
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await call(`/api/admin/queues/${encodeURIComponent(form.dataset.queue)}`, {
          labels_per_item: Number(form.elements.labels_per_item.value),
          random_share: Number(form.elements.random_share.value) });
        say(`${form.dataset.queue}: saved`);
      } catch (error) { say(error.message); }
    }));
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("labelling");
  if (root) labelling(root);
  admin();
  const signout = document.getElementById("signout");
  if (signout) signout.addEventListener("click", async () => {
    try { await call("/api/signout"); } finally { window.location.assign("/"); }
  });
});

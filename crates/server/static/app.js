// Concordat's own script, and the only one: every page works without it. It adds
//  - focus on a form's error summary, so a screen reader hears it first;
//  - confirmation before a form whose submit button has data-confirm is sent;
//  - live updates: the unread count, new notifications, and regions marked
//    data-live-region (fetched again from the page's own address when a notification
//    arrives), over the notification stream (server-sent events).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (event) => confirmFirst(event, button));
  }

  if (document.querySelector("[data-live]")) live();
});

// Asks in a dialog before the button's form is sent; the form is sent as it would have
// been (with the button's own name and value).
function confirmFirst(event, button) {
  if (button.dataset.confirmed === "yes") return;
  event.preventDefault();
  const dialog = document.createElement("dialog");
  dialog.setAttribute("aria-labelledby", "confirm-heading");
  const heading = document.createElement("h2");
  heading.id = "confirm-heading";
  heading.textContent = button.dataset.confirm;
  const group = document.createElement("div");
  group.className = "button-group";
  const yes = document.createElement("button");
  yes.type = "button";
  yes.className = "button";
  yes.textContent = "Yes, " + button.textContent.trim().toLowerCase();
  const no = document.createElement("button");
  no.type = "button";
  no.className = "button button-secondary";
  no.textContent = "Cancel";
  group.append(yes, no);
  dialog.append(heading, group);
  document.body.append(dialog);
  const close = () => { dialog.close(); dialog.remove(); button.focus(); };
  no.addEventListener("click", close);
  dialog.addEventListener("cancel", close);
  yes.addEventListener("click", () => {
    button.dataset.confirmed = "yes";
    dialog.close();
    dialog.remove();
    button.click();
  });
  dialog.showModal();
  no.focus();
}

function live() {
  const stream = new EventSource("/api/v1/notifications/stream");
  stream.addEventListener("notification", (event) => {
    let notice;
    try { notice = JSON.parse(event.data); } catch { return; }
    for (const count of document.querySelectorAll("[data-live-count]")) {
      count.textContent = String((parseInt(count.textContent, 10) || 0) + 1);
      count.hidden = false;
    }
    const list = document.querySelector("[data-live-list]");
    if (list) {
      const item = document.createElement("li");
      item.textContent = notice.message;
      list.prepend(item);
      const empty = document.querySelector("[data-live-empty]");
      if (empty) empty.hidden = true;
    }
    refreshRegions();
  });
}

// Fetches the page again and swaps in each region marked data-live-region by its id.
let refreshing = false;
async function refreshRegions() {
  const regions = document.querySelectorAll("[data-live-region][id]");
  if (regions.length === 0 || refreshing) return;
  refreshing = true;
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of regions) {
      const replacement = fresh.getElementById(region.id);
      if (replacement) region.innerHTML = replacement.innerHTML;
    }
  } finally {
    refreshing = false;
  }
}

// near-agent console: confirm dialogs, expiry countdowns and live updates (no inline script:
// the Content-Security-Policy allows only this file).
"use strict";

let leaving = false; // a form was sent: never reload over its answer

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  leaving = true;
});

function tickCountdowns() {
  for (const el of document.querySelectorAll(".countdown")) {
    const left = Math.max(0, Number(el.dataset.seconds) - 1);
    el.dataset.seconds = String(left);
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = left === 0 ? "expired" : (h ? h + " h " : "") + m + " min " + s + " s";
  }
}

let seen = null;
async function poll() {
  const badge = document.getElementById("live");
  try {
    const reply = await fetch("/live", { credentials: "same-origin", cache: "no-store" });
    const state = JSON.stringify(await reply.json());
    if (badge) badge.classList.remove("offline");
    if (leaving) return;
    if (seen !== null && state !== seen) {
      window.location.replace(window.location.pathname + window.location.search.replace(/([?&])said=[^&]*&?/, "$1"));
      return;
    }
    seen = state;
  } catch (error) {
    if (badge) badge.classList.add("offline");
  }
  window.setTimeout(poll, 1500);
}

tickCountdowns();
window.setInterval(tickCountdowns, 1000);
poll();

// A followed result under an experiment (a plain link) sends one click event as a beacon.
const sendClick = (event) => {
  const link = event.target.closest("a.book-link[data-request-id]");
  if (!link || (event.type === "auxclick" && event.button !== 1)) return;
  const body = {request_id: link.dataset.requestId, position: Number(link.dataset.position), event: "click"};
  navigator.sendBeacon("/api/feedback", new Blob([JSON.stringify(body)], {type: "application/json"}));
};
document.addEventListener("click", sendClick);
document.addEventListener("auxclick", sendClick);

// Completions for the search box from /api/suggest; the page works the same without them.
const box = document.getElementById("q"), list = document.getElementById("completions");
let pending;
box.addEventListener("input", () => {
  clearTimeout(pending);
  pending = setTimeout(async () => {
    const q = box.value.trim();
    if (q.length < 2) return;
    const res = await fetch("/api/suggest?limit=8&q=" + encodeURIComponent(q));
    if (!res.ok) return;
    list.replaceChildren(...(await res.json()).suggestions.map(s => new Option(s.text)));
  }, 150);
});

// A cover that fails to load (now or before this ran) gives way to the initials beneath it.
const isCover = (node) => node instanceof HTMLImageElement && node.classList.contains("cover");
document.addEventListener("error", (event) => {
  if (isCover(event.target)) event.target.hidden = true;
}, true);
document.querySelectorAll("img.cover").forEach((img) => {
  if (img.complete && img.naturalWidth === 0) img.hidden = true;
});

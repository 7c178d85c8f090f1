// On a phone the review's dozen links took half the screen above every page: there they fold
// behind a Menu button. Without JavaScript the links simply stay open.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector(".nav-toggle");
  if (!button) return;
  const header = button.closest("header");
  button.hidden = false;
  header.classList.add("nav-folding");
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    header.classList.toggle("nav-open", open);
  });
});

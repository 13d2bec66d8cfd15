// "More" closes when the person taps elsewhere or presses Escape, like any menu.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.more[open]").forEach(function (menu) {
    if (!menu.contains(event.target)) { menu.open = false; }
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  document.querySelectorAll("details.more[open]").forEach(function (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});

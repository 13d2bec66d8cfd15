/* Meeting mode: walk the agenda from the keyboard. Right arrow or j goes to the next item, left arrow or k to
   the previous one; nothing happens while typing in a field or with a modifier key held. */
(function () {
  "use strict";
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || typing(event.target)) {
      return;
    }
    var id = null;
    if (event.key === "ArrowRight" || event.key === "j") {
      id = "next-item";
    } else if (event.key === "ArrowLeft" || event.key === "k") {
      id = "prev-item";
    }
    var link = id && document.getElementById(id);
    if (link && link.href) {
      event.preventDefault();
      window.location.assign(link.href);
    }
  });
}());

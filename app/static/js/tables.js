// Tables read as cards on a phone: each cell is given its column's heading as a label (CSS shows it under 600 px).
// A table wider than its box scrolls inside it; such a box is made reachable by keyboard and named after its table.
(function () {
  function label(table) {
    var caption = table.querySelector("caption");
    var section = table.closest("section");
    var heading = section && section.querySelector("h2, h3");
    return (caption || heading || {textContent: "Table"}).textContent.trim();
  }
  document.querySelectorAll("main table").forEach(function (table) {
    var headings = [];
    table.querySelectorAll("thead tr:last-child th").forEach(function (th) {
      for (var span = 0; span < (th.colSpan || 1); span++) { headings.push(th.textContent.trim()); }
    });
    if (!headings.length || table.classList.contains("keep-table")) { return; }
    table.classList.add("stack");
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (!cell.hasAttribute("data-label") && headings[column]) { cell.setAttribute("data-label", headings[column]); }
        column += cell.colSpan || 1;
      });
    });
  });
  function reachable() {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        var table = box.querySelector("table");
        box.setAttribute("aria-label", table ? label(table) : "Table");
      }
    });
  }
  reachable();
  window.addEventListener("resize", reachable);
})();

// The risk page's link picker: as a person types part of a name, ask the server for the first matches and offer
// them in the field's <datalist>; choosing one fills the hidden kind and id. Without this script the server
// resolves the typed label or name itself.
(function () {
  var list = document.getElementById("link-targets");
  if (!list) { return; }
  var field = document.querySelector('input[list="link-targets"]');
  var form = field && field.form;
  if (!form) { return; }
  var kind = form.elements.namedItem("kind");
  var targetId = form.elements.namedItem("target_id");
  var found = {};  // label -> {kind, id} of the latest answer
  var asked = "";
  var timer = null;

  function choose() {
    var match = found[field.value];
    kind.value = match ? match.kind : "";
    targetId.value = match ? String(match.id) : "";
  }

  function show(targets) {
    found = {};
    list.replaceChildren.apply(list, targets.map(function (target) {
      found[target.label] = target;
      var option = document.createElement("option");
      option.value = target.label;
      return option;
    }));
    choose();
  }

  function ask() {
    var query = field.value.trim();
    if (!query || query === asked || found[field.value]) { return; }
    asked = query;
    fetch(list.dataset.search + "?q=" + encodeURIComponent(query.slice(0, 100)),
          {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : {targets: []}; })
      .then(function (body) { if (asked === query) { show(body.targets || []); } })
      .catch(function () { /* offline or refused: the server still resolves what was typed */ });
  }

  field.addEventListener("input", function () {
    choose();
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 150);
  });
  choose();
})();

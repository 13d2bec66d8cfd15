// A delete asks first, naming what goes: any form with data-confirm="Delete the vendor Oracle?" waits for a yes.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
}, true);

document.querySelectorAll("button.copy").forEach(function (button) {
  button.addEventListener("click", function () {
    var input = document.getElementById(button.dataset.copy);
    input.select();
    var done = function () {
      button.setAttribute("aria-live", "polite");
      button.dataset.label = button.dataset.label || button.textContent;
      button.textContent = "✓ " + button.dataset.label;
      setTimeout(function () { button.textContent = button.dataset.label; }, 1500);
    };
    if (navigator.clipboard) { navigator.clipboard.writeText(input.value).then(done, done); }
    else { document.execCommand("copy"); done(); }
  });
});

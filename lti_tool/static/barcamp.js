/* Barcamp grid: drag and drop on top of the per-session forms (progressive enhancement).
 *
 * Without JavaScript every session has a form with a "cell" select and a Save
 * button; that form is also the keyboard and screen-reader path. Here a drop
 * fills that same form and sends it with fetch (asking for JSON); the server
 * validates every placement (cell free, no host twice in a slot, cell of this
 * barcamp). On success the card moves into the cell, otherwise the server's
 * message is announced and nothing moves.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-barcamp-plan]");
  if (!root || !window.fetch || !window.FormData) { return; }
  var status = document.getElementById("bc-status");
  var dragged = null;

  function say(text, isError) {
    if (!status) { return; }
    status.textContent = text;
    status.className = isError ? "notice error" : "notice ok";
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) { return values[key] || ""; });
  }

  function targetOf(el) { return el && el.closest ? el.closest("[data-cell]") : null; }

  function place(card, target) {
    var id = card.getAttribute("data-session-id");
    var form = document.getElementById("place-form-" + id);
    var select = document.getElementById("cell-" + id);
    if (!form || !select) { return; }
    var cell = target.getAttribute("data-cell");
    var previous = select.value;
    if (cell === previous) { return; }
    if (cell && target.querySelector("[data-session-id]")) {
      say(root.getAttribute("data-fail-label") + " " + target.getAttribute("data-cell-label"), true);
      return;
    }
    select.value = cell;
    var title = (card.querySelector(".bc-title") || card).textContent.trim();
    target.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (resp) {
      return resp.json().catch(function () { return { ok: false }; });
    }).then(function (data) {
      target.removeAttribute("aria-busy");
      if (data && data.ok) {
        var empty = target.querySelector(".bc-empty");
        if (empty) { empty.remove(); }
        var source = card.parentNode;
        target.appendChild(card);
        if (source && source.matches("td[data-cell]") && !source.querySelector("[data-session-id]")) {
          source.classList.add("bc-free");
        }
        target.classList.remove("bc-free");
        say(cell ? fill(root.getAttribute("data-place-label"), { title: title, cell: target.getAttribute("data-cell-label") })
                 : fill(root.getAttribute("data-unplace-label"), { title: title }), false);
      } else {
        select.value = previous;
        say((data && data.error) || root.getAttribute("data-fail-label"), true);
      }
    }).catch(function () {
      target.removeAttribute("aria-busy");
      select.value = previous;
      say(root.getAttribute("data-fail-label"), true);
    });
  }

  root.addEventListener("dragstart", function (e) {
    var card = e.target.closest ? e.target.closest("[data-session-id]") : null;
    if (!card) { return; }
    dragged = card;
    card.classList.add("bc-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-session-id"));
  });
  root.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("bc-dragging"); }
    dragged = null;
    root.querySelectorAll(".bc-drop-over").forEach(function (el) { el.classList.remove("bc-drop-over"); });
  });
  root.addEventListener("dragover", function (e) {
    var target = targetOf(e.target);
    if (!dragged || !target) { return; }
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    target.classList.add("bc-drop-over");
  });
  root.addEventListener("dragleave", function (e) {
    var target = targetOf(e.target);
    if (target && !target.contains(e.relatedTarget)) { target.classList.remove("bc-drop-over"); }
  });
  root.addEventListener("drop", function (e) {
    var target = targetOf(e.target);
    if (!dragged || !target) { return; }
    e.preventDefault();
    target.classList.remove("bc-drop-over");
    place(dragged, target);
  });
})();

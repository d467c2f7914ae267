/* Title suggestions as the user types: an enhancement only (the search form works without it).
   Everything shown comes from the JSON API and is set as text, never as markup. */
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("suggest");
  var dataEl = document.getElementById("page-data");
  if (!input || !list || !dataEl || !window.fetch || !window.JSON) return;
  var cfg;
  try { cfg = JSON.parse(dataEl.textContent); } catch (e) { return; }
  var timer = null, asked = "", pending = null;

  function clear() {
    while (list.firstChild) list.removeChild(list.firstChild);
    list.hidden = true;
  }
  function titleOf(t) {
    if (!t || typeof t !== "object") return "";
    if (t[cfg.lang]) return t[cfg.lang];
    if (t.en) return t.en;
    for (var k in t) if (Object.prototype.hasOwnProperty.call(t, k) && typeof t[k] === "string") return t[k];
    return "";
  }
  function recordUrl(id) {
    return cfg.record + String(id).split("/").map(encodeURIComponent).join("/") +
      "?lang=" + encodeURIComponent(cfg.lang);
  }
  function show(data, words) {
    if (words !== asked) return;
    clear();
    var hits = data && data.results;
    if (!hits || !hits.length) return;
    for (var i = 0; i < hits.length; i++) {
      var h = hits[i];
      if (!h || typeof h.id !== "string") continue;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = recordUrl(h.id);
      a.textContent = titleOf(h.title) || h.id;
      a.setAttribute("dir", "auto");
      li.appendChild(a);
      list.appendChild(li);
    }
    list.hidden = !list.firstChild;
  }
  function ask() {
    var words = input.value.trim();
    if (words.length < 2) { asked = ""; clear(); return; }
    if (words === asked) return;
    asked = words;
    if (pending && pending.abort) pending.abort();
    pending = window.AbortController ? new AbortController() : null;
    var url = cfg.api + "?q=" + encodeURIComponent(words) + "&limit=5&suggest=1&lang=" + encodeURIComponent(cfg.lang);
    fetch(url, { headers: { Accept: "application/json" }, signal: pending ? pending.signal : undefined })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { show(data, words); })
      .catch(function () {});
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Escape") clear();
    if (e.key === "ArrowDown" && !list.hidden && list.firstChild) {
      e.preventDefault();
      list.firstChild.firstChild.focus();
    }
  });
  list.addEventListener("keydown", function (e) {
    var li = e.target.parentNode;
    if (e.key === "ArrowDown" && li.nextSibling) { e.preventDefault(); li.nextSibling.firstChild.focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); (li.previousSibling ? li.previousSibling.firstChild : input).focus(); }
    if (e.key === "Escape") { clear(); input.focus(); }
  });
  document.addEventListener("click", function (e) {
    if (e.target !== input && !list.contains(e.target)) clear();
  });
})();

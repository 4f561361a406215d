// trialdesk desk pages: small progressive enhancement, written for this project.
// Without JavaScript every form still works by plain posting; with it:
//  - [data-live] forms re-check themselves as you type (POST to data-live, HTML into data-live-target);
//  - [data-lookup] inputs search as you type (GET ?q=, HTML into data-lookup-target);
//  - choosing a CTCAE term fills the term field and loads that term's grade texts.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function swap(selector, html) {
    var target = document.querySelector(selector);
    if (target) { target.innerHTML = html; }
  }

  function csrf(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function liveForm(form) {
    var url = form.getAttribute("data-live");
    var target = form.getAttribute("data-live-target");
    var busy = 0;
    var run = debounce(function () {
      var mine = ++busy;
      var body = new FormData(form);
      body.delete("bundle");
      fetch(url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(form), "X-Desk-Partial": "1" }
      }).then(function (response) { return response.text(); })
        .then(function (html) { if (mine === busy) { swap(target, html); } })
        .catch(function () { /* the Check button still works */ });
    }, 400);
    form.addEventListener("input", run);
    form.addEventListener("change", run);
  }

  function lookup(input) {
    var url = input.getAttribute("data-lookup");
    var target = input.getAttribute("data-lookup-target");
    input.addEventListener("input", debounce(function () {
      var query = input.value.trim();
      if (query.length < 2) { swap(target, ""); return; }
      fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) { swap(target, html); })
        .catch(function () {});
    }, 250));
    input.addEventListener("change", function () { loadGrades(input); });
  }

  var gradeRequests = 0;

  function loadGrades(input) {
    var mine = ++gradeRequests;  // only the latest answer is shown (leaving the field asks too)
    var url = input.getAttribute("data-grades");
    var target = input.getAttribute("data-grades-target");
    var form = input.getAttribute("data-form") || "ae";
    var chosen = input.form ? input.form.querySelector("input[name=grade]:checked, input[name=grade][type=number]") : null;
    var grade = chosen ? chosen.value : "";
    fetch(url + "?term_name=" + encodeURIComponent(input.value.trim()) + "&grade=" + encodeURIComponent(grade) +
          "&form=" + encodeURIComponent(form), { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) { if (mine === gradeRequests) { swap(target, html); } })
      .catch(function () {});
  }

  document.addEventListener("change", function (event) {
    var picked = event.target;
    if (!picked || picked.name !== "term_choice") { return; }
    var form = picked.form;
    var input = form ? form.querySelector("input[data-lookup]") : null;
    if (!input) { return; }
    input.value = picked.getAttribute("data-term");
    loadGrades(input);
    var results = input.getAttribute("data-lookup-target");
    swap(results, "");
    input.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-live]"), liveForm);
    Array.prototype.forEach.call(document.querySelectorAll("input[data-lookup]"), lookup);
  });
})();

// S5/A1/S6: picking a time point fills the observed-at time (still editable, for a late entry), and a time outside
// the time point's slot or the dose's 4-8 h assessment window is flagged before submit. The bounds and the words
// come from the server (the page's "time-points" json_script block): this file holds no clinical number of its own.
// The server asks for the same confirmation when the form is posted.
(function () {
  function inSlot(time, slot) {
    return slot[0] <= time && time < slot[1];
  }

  function inWindow(time, window) {
    return window[0] <= time && time <= window[1];
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("time-points");
    var input = document.getElementById("id_observed_at");
    var box = document.getElementById("time-warning");
    if (!source || !input || !box) return;
    var points = JSON.parse(source.textContent);
    var text = document.getElementById("time-warning-text");
    var radios = document.querySelectorAll("input[name=time_point]");

    function chosen() {
      var picked = document.querySelector("input[name=time_point]:checked");
      return picked ? points[picked.value] : null;
    }

    function check() {
      var point = chosen();
      var time = input.value;
      var warnings = [];
      if (point && time) {
        if (point.slot && !inSlot(time, point.slot)) warnings.push(point.slot_warning);
        if (point.window && !inWindow(time, point.window)) warnings.push(point.window_warning);
      }
      text.replaceChildren();
      warnings.forEach(function (words) {
        var line = document.createElement("p");
        line.className = "warning";
        line.textContent = words;
        text.appendChild(line);
      });
      box.classList.toggle("hidden", warnings.length === 0);
    }

    radios.forEach(function (radio) {
      radio.addEventListener("change", function () {
        var point = chosen();
        if (point && point.at) input.value = point.at;
        check();
      });
    });
    input.addEventListener("input", check);
    input.addEventListener("change", check);
  });
})();

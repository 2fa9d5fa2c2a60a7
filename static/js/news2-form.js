// V1: flags abnormal values on the charting form as they are typed, and shows the NEWS2 they add up to. The scoring
// table and the risk thresholds come from the policy in force (the page's "news2-policy" json_script block): this
// file holds no clinical number of its own. The server scores the observation again when it is charted.
(function () {
  function bandScore(value, band) {
    for (var i = 0; i < band.edges.length; i++) {
      if (value <= Number(band.edges[i])) return band.scores[i];
    }
    return band.scores[band.scores.length - 1];
  }

  function setFlag(box, name, points, policy) {
    var flag = box.querySelector(".flag");
    box.classList.toggle("abnormal", points > 0);
    if (points > 0) {
      if (!flag) {
        flag = document.createElement("p");
        flag.className = "flag";
        flag.setAttribute("data-testid", "flag-" + name);
        box.appendChild(flag);
      }
      flag.textContent = "Abnormal " + policy.labels[name] + ": NEWS2 " + points;
    } else if (flag) {
      flag.remove();
    }
  }

  function risk(total, scores, policy) {
    if (total >= policy.high_from) return "high";
    if (total >= policy.medium_from) return "medium";
    var red = Object.keys(scores).some(function (name) { return scores[name] >= policy.single_parameter_red; });
    return red ? "low_medium" : "low";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("news2-policy");
    var output = document.getElementById("news2-total");
    if (!node || !output) return;
    var policy = JSON.parse(node.textContent);
    var form = output.closest("form");

    function update() {
      var scores = {};
      var complete = true;
      Object.keys(policy.bands).forEach(function (name) {
        var input = document.getElementById("id_" + name);
        if (!input) return;
        var box = input.closest(".field");
        var text = input.value.trim();
        if (text === "" || isNaN(Number(text))) {
          complete = false;
          setFlag(box, name, 0, policy);
          return;
        }
        scores[name] = bandScore(Number(text), policy.bands[name]);
        setFlag(box, name, scores[name], policy);
      });
      var oxygen = document.getElementById("id_on_oxygen");
      scores.on_oxygen = oxygen && oxygen.checked ? policy.oxygen_score : 0;
      setFlag(form.querySelector('[data-news2="on_oxygen"]'), "on_oxygen", scores.on_oxygen, policy);
      var sedation = form.querySelector('input[name="sedation"]:checked');
      scores.sedation = !sedation || sedation.value === policy.alert ? 0 : policy.not_alert_score;
      setFlag(form.querySelector('[data-news2="sedation"]'), "sedation", scores.sedation, policy);
      var total = Object.keys(scores).reduce(function (sum, name) { return sum + scores[name]; }, 0);
      output.textContent = "";
      if (!complete) {
        output.textContent = "NEWS2 (V1) so far: " + total + "; complete the vital signs for the score.";
        return;
      }
      var level = risk(total, scores, policy);
      var badge = document.createElement("span");
      badge.className = "badge news2-" + level;
      badge.textContent = total + " · " + level.replace("_", " ") + " risk";
      output.append("NEWS2 (V1): ", badge);
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  });
})();

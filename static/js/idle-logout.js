// Shared tablets: log out after the page's idle limit without a touch, click or key (the server enforces it too).
// The limit comes from this script tag's data-idle-seconds: pages carry no inline script (Content-Security-Policy).
(function () {
  var limit = Number(document.currentScript.dataset.idleSeconds) * 1000, timer;
  function logout() { document.getElementById("logout-form").submit(); }
  function reset() { clearTimeout(timer); timer = setTimeout(logout, limit); }
  ["click", "keydown", "touchstart", "input"].forEach(function (e) { document.addEventListener(e, reset, true); });
  reset();
})();

// The explorers stored in the notebooks' outputs (course_utils/widgets/static.py), made to slide:
// each element with class "course-static-explorer" holds, in data-explorer, the images and the
// info line for every stored combination of its controls' values. Moving a control shows the
// stored view for the controls' values; where that combination was not stored (only one control
// at a time was), the nearest stored view with the moved control's value is shown and the
// other controls move to its values.
(function () {
  "use strict";

  function wire(root) {
    var data = JSON.parse(root.getAttribute("data-explorer"));
    var inputs = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
    var byKey = {};
    data.states.forEach(function (state) { byKey[state.key.join(",")] = state; });
    var defaults = data.controls.map(function (c) { return c.default; });

    function values() { return inputs.map(function (el) { return parseInt(el.value, 10); }); }

    // the stored view with key[moved], differing from key (then from the defaults) the least
    function nearest(key, moved) {
      var best = null, bestCost = Infinity;
      data.states.forEach(function (state) {
        if (state.key[moved] !== key[moved]) { return; }
        var cost = 0;
        state.key.forEach(function (v, i) {
          if (v !== key[i]) { cost += 1000; }
          if (v !== defaults[i]) { cost += 1; }
        });
        if (cost < bestCost) { best = state; bestCost = cost; }
      });
      return best;
    }

    function show(moved) {
      var key = values();
      var state = byKey[key.join(",")] || nearest(key, moved);
      if (!state) { return; }
      key = state.key;
      inputs.forEach(function (el, i) { el.value = String(key[i]); });
      inputs.forEach(function (el, i) {
        var out = root.querySelector('[data-readout="' + i + '"]');
        if (out) { out.textContent = data.controls[i].labels[key[i]]; }
      });
      Object.keys(state.images).forEach(function (name) {
        var img = root.querySelector('img[data-image="' + name + '"]');
        if (img) { img.src = "data:image/png;base64," + data.pngs[state.images[name]]; }
      });
      var info = root.querySelector(".cse-info");
      if (info) { info.innerHTML = state.info; }
    }

    inputs.forEach(function (el, i) {
      el.addEventListener("input", function () { show(i); });
      el.addEventListener("change", function () { show(i); });
    });
    root.classList.add("cse-ready");
  }

  function wireAll() {
    document.querySelectorAll(".course-static-explorer").forEach(function (root) {
      try { wire(root); } catch (err) { root.classList.add("cse-broken"); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wireAll);
  } else {
    wireAll();
  }
})();

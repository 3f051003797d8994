// bereikbaarheid report: mode switches, zoom and pan. No libraries, no network.
(function () {
  "use strict";

  // Zoom with the wheel around the pointer, pan by dragging, reset with the button.
  function zoomable(svg, resetButton) {
    var start = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    var box = start.slice();
    var baseR = Number(svg.getAttribute("data-r")) || 0;
    var circles = svg.querySelectorAll("circle.facility");
    function apply() {
      svg.setAttribute("viewBox", box.join(" "));
      if (baseR) {
        // Keep the facility symbols the same size on screen.
        var r = String(baseR * box[2] / start[2]);
        for (var i = 0; i < circles.length; i++) circles[i].setAttribute("r", r);
      }
    }
    function toUser(event) {
      var ctm = svg.getScreenCTM();
      if (!ctm) return null;
      var point = svg.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      return point.matrixTransform(ctm.inverse());
    }
    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var at = toUser(event);
      if (!at) return;
      var k = event.deltaY < 0 ? 0.8 : 1.25;
      var width = box[2] * k;
      if (width < start[2] / 200 || width > start[2] * 1.5) return;
      box = [at.x - (at.x - box[0]) * k, at.y - (at.y - box[1]) * k, width, box[3] * k];
      apply();
    }, { passive: false });
    var last = null;
    svg.addEventListener("pointerdown", function (event) {
      last = toUser(event);
      svg.classList.add("dragging");
      if (svg.setPointerCapture) svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener("pointermove", function (event) {
      if (!last) return;
      var now = toUser(event);
      if (!now) return;
      box[0] -= now.x - last.x;
      box[1] -= now.y - last.y;
      apply();
      last = toUser(event);
    });
    function stop() { last = null; svg.classList.remove("dragging"); }
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
    if (resetButton) resetButton.addEventListener("click", function () { box = start.slice(); apply(); });
  }

  function setPressed(buttons, mode) {
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-mode") === mode ? "true" : "false");
    }
  }

  function modeName(section, buttons, mode) {
    var label = section.querySelector(".mode-name");
    for (var i = 0; i < buttons.length; i++) {
      if (label && buttons[i].getAttribute("data-mode") === mode) label.textContent = buttons[i].textContent;
    }
  }

  // Travel-time and difference maps: each button holds its mode's image.
  function initMap(section) {
    var image = section.querySelector("svg.map-svg image.cells");
    var buttons = section.querySelectorAll("button.mode-button");
    var sources = {};
    for (var i = 0; i < buttons.length; i++) {
      var mode = buttons[i].getAttribute("data-mode");
      sources[mode] = buttons[i].getAttribute("data-src");
      buttons[i].removeAttribute("data-src");
    }
    sources[section.getAttribute("data-mode")] = image.getAttribute("href");
    for (var j = 0; j < buttons.length; j++) {
      buttons[j].addEventListener("click", function (event) {
        var mode = event.currentTarget.getAttribute("data-mode");
        if (!sources[mode]) return;
        image.setAttribute("href", sources[mode]);
        section.setAttribute("data-mode", mode);
        setPressed(buttons, mode);
        modeName(section, buttons, mode);
      });
    }
    zoomable(section.querySelector("svg.map-svg"), section.querySelector(".reset-button"));
  }

  // Choropleths: each area holds its share per mode; classes as in the legend.
  function initChoropleth(section) {
    var edges = section.getAttribute("data-edges").split(",").map(Number);
    var colours = section.getAttribute("data-colours").split(",");
    var missing = section.getAttribute("data-missing");
    var areas = section.querySelectorAll("path.area");
    var buttons = section.querySelectorAll("button.area-mode-button");
    function colour(share) {
      if (share === null || isNaN(share)) return missing;
      var k = 0;
      while (k < edges.length && share >= edges[k]) k++;
      return colours[k];
    }
    function show(mode) {
      for (var i = 0; i < areas.length; i++) {
        var raw = areas[i].getAttribute("data-share-" + mode);
        areas[i].setAttribute("fill", colour(raw === null ? NaN : Number(raw)));
        var title = areas[i].querySelector("title");
        var label = areas[i].getAttribute("data-label-" + mode);
        if (title && label) title.textContent = label;
      }
      section.setAttribute("data-mode", mode);
      setPressed(buttons, mode);
      modeName(section, buttons, mode);
    }
    for (var j = 0; j < buttons.length; j++) {
      buttons[j].addEventListener("click", function (event) {
        show(event.currentTarget.getAttribute("data-mode"));
      });
    }
    zoomable(section.querySelector("svg.area-svg"), section.querySelector(".reset-button"));
  }

  function init() {
    var maps = document.querySelectorAll("section.map");
    for (var i = 0; i < maps.length; i++) initMap(maps[i]);
    var choropleths = document.querySelectorAll("section.choropleth");
    for (var j = 0; j < choropleths.length; j++) initChoropleth(choropleths[j]);
    document.body.dataset.ready = "1";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

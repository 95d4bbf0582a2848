/* The console's maps: the bundled country outlines as the base (no tiles needed), crises by severity. */
"use strict";

window.ConsoleMap = (function () {
  var SEVERITY_COLOURS = { extreme: "#7a0019", severe: "#c8102e", moderate: "#e87722", minor: "#d4b000" };
  var ADVISORY_FILL = { 1: "#f4f7f2", 2: "#fff4cc", 3: "#ffd9b3", 4: "#f5b7b1" };

  function fetchJson(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, options || {}))
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            var message = body && body.error ? body.error.message : "HTTP " + response.status;
            throw new Error(message);
          }
          return body;
        });
      });
  }

  function create(element) {
    var map = L.map(element, { worldCopyJump: false, minZoom: 1, maxZoom: 14, zoomSnap: 0.5 }).setView([20, 10], 2);
    map.attributionControl.setPrefix(false);
    element.consoleMap = map;  // for the browser tests, which place their clicks by coordinates
    var tiles = element.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { attribution: element.getAttribute("data-attribution") || "" }).addTo(map);
    }
    var countriesUrl = element.getAttribute("data-countries");
    if (countriesUrl) {
      fetchJson(countriesUrl).then(function (collection) {
        L.geoJSON(collection, {
          interactive: false,
          style: function (feature) {
            var p = feature.properties;
            return {
              color: p.jurisdiction ? "#1d4e89" : "#8a8f98",
              weight: p.jurisdiction ? 1.5 : 0.6,
              fillColor: ADVISORY_FILL[p.advisory] || "#eef1f4",
              fillOpacity: tiles ? 0.15 : 1
            };
          }
        }).addTo(map).bringToBack();
        element.setAttribute("data-countries-loaded", String(collection.features.length));
        element.setAttribute("data-countries-loaded-at", String(Math.round(performance.now())));
      }).catch(function (problem) { element.setAttribute("data-error", problem.message); });
    }
    return map;
  }

  function crisisStyle(feature) {
    var p = feature.properties || {};
    var colour = SEVERITY_COLOURS[p.severity] || "#555";
    return { color: colour, weight: 2, fillColor: colour, fillOpacity: p.status === "active" ? 0.35 : 0.12,
             dashArray: p.status === "active" ? null : "6 4" };
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span.innerHTML;
  }

  return { create: create, fetchJson: fetchJson, crisisStyle: crisisStyle, text: text };
})();

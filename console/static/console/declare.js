/* Declaring: draw (polygon, rectangle, circle) or paste; the count of who is inside follows, debounced. */
"use strict";

(function () {
  var element = document.getElementById("map");
  var map = ConsoleMap.create(element);
  var form = document.getElementById("declare-form");
  var areaField = document.getElementById("id_area");
  var startsField = document.getElementById("id_starts_at");
  var endsField = document.getElementById("id_ends_at");
  var drawn = L.featureGroup().addTo(map);
  var timer = null;
  var sequence = 0;

  map.pm.addControls({
    position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawText: false,
    cutPolygon: false, rotateMode: false, dragMode: false
  });
  // Geoman names its buttons on their container only: give each button its name, for screen readers.
  element.querySelectorAll(".leaflet-pm-toolbar .button-container").forEach(function (container) {
    var button = container.querySelector("a[role=button]");
    if (button && container.getAttribute("title")) { button.setAttribute("aria-label", container.getAttribute("title")); }
  });

  function featureOf(layer) {
    if (layer instanceof L.Circle) {
      var centre = layer.getLatLng();
      return { type: "Feature", properties: {},
               geometry: { type: "Circle", center: [centre.lng, centre.lat], radius_km: layer.getRadius() / 1000 } };
    }
    return layer.toGeoJSON(7);
  }

  function areaOfDrawing() {
    var features = [];
    drawn.eachLayer(function (layer) { features.push(featureOf(layer)); });
    if (!features.length) { return null; }
    return features.length === 1 ? features[0] : { type: "FeatureCollection", features: features };
  }

  function drawingChanged() {
    var area = areaOfDrawing();
    areaField.value = area ? JSON.stringify(area) : "";
    schedulePreview();
  }

  function show(id, value) { document.getElementById(id).textContent = value; }

  function preview() {
    var text = areaField.value.trim();
    if (!text) { show("preview-located", "–"); show("preview-country-only", "–"); return; }
    var area;
    try { area = JSON.parse(text); } catch (problem) { show("preview-located", "not GeoJSON"); return; }
    var mine = ++sequence;
    element.setAttribute("data-preview-state", "loading");
    ConsoleMap.fetchJson(element.getAttribute("data-preview"), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value },
      body: JSON.stringify({ area: area, starts_at: startsField.value || null, ends_at: endsField.value || null })
    }).then(function (answer) {
      if (mine !== sequence) { return; }  // an answer to an older drawing
      var k = answer.suppressed_below;
      show("preview-located", answer.located_suppressed ? "fewer than " + k : String(answer.located));
      show("preview-country-only", answer.country_only_suppressed ? "fewer than " + k : String(answer.country_only));
      show("preview-countries", answer.countries.length ? "Countries touched: " + answer.countries.join(", ") : "No country touched.");
      var list = document.getElementById("preview-warnings");
      list.textContent = "";
      answer.warnings.forEach(function (warning) {
        var item = document.createElement("li");
        item.textContent = warning;
        list.appendChild(item);
      });
      element.setAttribute("data-preview-state", "done");
    }).catch(function (problem) {
      if (mine !== sequence) { return; }
      show("preview-located", problem.message);
      show("preview-country-only", "–");
      element.setAttribute("data-preview-state", "error");
    });
  }

  function schedulePreview() {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 400);
  }

  map.on("pm:create", function (event) {
    drawn.addLayer(event.layer);
    event.layer.on("pm:edit", drawingChanged);
    event.layer.on("pm:remove", function () { drawn.removeLayer(event.layer); drawingChanged(); });
    drawingChanged();
  });
  map.on("pm:remove", function (event) { drawn.removeLayer(event.layer); drawingChanged(); });

  // A pasted area is drawn too, so what is saved is what the officer sees.
  areaField.addEventListener("input", function () {
    drawn.clearLayers();
    try {
      var shown = L.geoJSON(JSON.parse(areaField.value), { style: { color: "#c8102e" } });
      shown.eachLayer(function (layer) { drawn.addLayer(layer); });
      if (drawn.getLayers().length) { map.fitBounds(drawn.getBounds(), { maxZoom: 9 }); }
    } catch (problem) { /* not GeoJSON yet: the preview says so */ }
    schedulePreview();
  });
  [startsField, endsField].forEach(function (field) { field.addEventListener("change", schedulePreview); });
  if (areaField.value.trim()) { areaField.dispatchEvent(new Event("input")); }
})();

/* The situation map: every crisis the post sees, drawn by severity, with its exposure. */
"use strict";

(function () {
  var element = document.getElementById("map");
  var map = ConsoleMap.create(element);
  ConsoleMap.fetchJson(element.getAttribute("data-crises")).then(function (collection) {
    var layer = L.geoJSON(collection, {
      style: ConsoleMap.crisisStyle,
      onEachFeature: function (feature, shape) {
        var p = feature.properties;
        // The exposure is in the table beside the map (computed once, with the page).
        var row = document.querySelector('tr[data-crisis="' + p.id + '"]');
        var located = row ? row.querySelector('[data-field="located"]').textContent : "?";
        var countryOnly = row ? row.querySelector('[data-field="country_only"]').textContent : "?";
        shape.bindPopup(
          "<strong>" + ConsoleMap.text(p.title) + "</strong><br>" + ConsoleMap.text(p.severity + " · " + p.status) +
          "<br>located: " + ConsoleMap.text(String(located)) + " · country only: " + ConsoleMap.text(String(countryOnly)) +
          '<br><a href="' + "crises/" + encodeURIComponent(p.id) + '/">Open</a>'
        );
      }
    }).addTo(map);
    if (collection.features.length) {
      map.fitBounds(layer.getBounds(), { maxZoom: 7, padding: [20, 20] });
    }
    element.setAttribute("data-loaded", String(collection.features.length));
    element.setAttribute("data-loaded-at", String(Math.round(performance.now())));
  }).catch(function (problem) {
    element.setAttribute("data-error", problem.message);
  });
})();

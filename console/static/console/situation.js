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
        var located = p.exposure.located === null ? "fewer than k" : p.exposure.located;
        var countryOnly = p.exposure.country_only === null ? "fewer than k" : p.exposure.country_only;
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
  }).catch(function (problem) {
    element.setAttribute("data-error", problem.message);
  });
})();

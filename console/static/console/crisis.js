/* A crisis's page: its area on a map, and its check-ins and campaigns refreshed while the page is open. */
"use strict";

(function () {
  var element = document.getElementById("map");
  var area = JSON.parse(document.getElementById("crisis-area").textContent);
  var map = ConsoleMap.create(element);
  var layer = L.geoJSON(area, { style: { color: "#c8102e", weight: 2, fillOpacity: 0.3 } }).addTo(map);
  map.fitBounds(layer.getBounds(), { maxZoom: 9, padding: [10, 10] });

  var box = document.getElementById("checkins");
  function show(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = value === null || value === undefined ? "<k" : String(value); }
  }
  function refresh() {
    ConsoleMap.fetchJson(box.getAttribute("data-url")).then(function (progress) {
      if (progress.checkins) {
        show("checkins-safe", progress.checkins.safe);
        show("checkins-need-help", progress.checkins.need_help);
        show("checkins-no-response", progress.checkins.no_response);
      }
      show("checkins-as-of", progress.as_of);
      progress.campaigns.forEach(function (campaign) {
        var row = document.querySelector('tr[data-campaign="' + campaign.id + '"]');
        if (!row) { return; }
        ["queued", "sent", "failed"].forEach(function (name) {
          var cell = row.querySelector('[data-field="' + name + '"]');
          if (cell) { cell.textContent = campaign[name] === null ? "<k" : String(campaign[name]); }
        });
        if (campaign.checkins) {
          ["safe", "need_help"].forEach(function (name) {
            var cell = row.querySelector('[data-field="' + name + '"]');
            if (cell) { cell.textContent = campaign.checkins[name] === null ? "<k" : String(campaign.checkins[name]); }
          });
        }
      });
      box.removeAttribute("data-error");
    }).catch(function (problem) { box.setAttribute("data-error", problem.message); });
  }
  var period = Number(box.getAttribute("data-period") || 10000);
  window.setInterval(function () { if (!document.hidden) { refresh(); } }, period);

  // The SMS length and segment counter of each message (GSM-7: 160, or 153 a part; otherwise 70, or 67).
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENDED = "^{}\\[~]|€\f";
  function segments(value) {
    var units = 0, gsm = true;
    for (var i = 0; i < value.length; i++) {
      var c = value.charAt(i);
      if (GSM.indexOf(c) >= 0) { units += 1; } else if (GSM_EXTENDED.indexOf(c) >= 0) { units += 2; } else { gsm = false; break; }
    }
    if (!gsm) { units = value.length; }
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    return { units: units, encoding: gsm ? "GSM-7" : "UCS-2", parts: units <= single ? (units ? 1 : 0) : Math.ceil(units / part) };
  }
  document.querySelectorAll(".sms-counter").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-for"));
    function update() {
      var s = segments(field.value);
      counter.textContent = s.units ? s.units + " characters (" + s.encoding + "), " + s.parts + " SMS part" + (s.parts === 1 ? "" : "s") +
        " before the link and name are filled in" : "";
    }
    field.addEventListener("input", update);
    update();
  });
})();

/* Maillage query page: YASGUI on the local endpoint, the named queries as examples.
   No completer that calls an outside service (prefix.cc, LOV): the page works offline. */
(function () {
  "use strict";
  var root = document.getElementById("yasgui");
  var endpoint = root.getAttribute("data-endpoint");
  var examples = JSON.parse(document.getElementById("examples-data").textContent);
  var byId = {};
  examples.forEach(function (q) { byId[q.id] = q; });
  if (window.Yasgui && Yasgui.Yasqe && Yasgui.Yasqe.defaults) {
    Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  }
  var first = examples.length ? examples[0].query :
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10";
  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: null,
    populateFromUrl: true,
    yasqe: { value: first, autocompleters: ["variables"] }
  });
  window.maillageYasgui = yasgui;
  if (/[?&]run=1\b/.test(window.location.search)) {
    yasgui.getTab().query();  // ?run=1: run the query at once (shareable result links)
  }
  document.getElementById("examples").addEventListener("click", function (event) {
    var button = event.target.closest("button.example");
    if (!button) { return; }
    var q = byId[button.getAttribute("data-id")];
    var tab = yasgui.getTab();
    tab.setQuery(q.query);
    tab.setName ? tab.setName(q.id) : null;
    document.getElementById("yasgui").scrollIntoView({ behavior: "smooth" });
  });
})();

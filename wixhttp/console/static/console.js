// The wixhttp console: the site's functions, a try-it panel, the live feed, the load error.
// Plain DOM code; everything from the site or the server is set as text, never as HTML.
(function () {
  "use strict";
  var base = location.pathname.replace(/[^/]*$/, "");  // .../_wixhttp/
  var root = base.slice(0, -"_wixhttp/".length);      // the app's root path, then "/"
  var TRACE_HEADER = "x-wixhttp-console-trace";
  var FEED_LIMIT = 200;
  var $ = function (id) { return document.getElementById(id); };
  var state = {generation: null, selected: null, functions: []};

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderFunctions(functions) {
    var list = $("functions");
    list.textContent = "";
    functions.forEach(function (fn) {
      var li = el("li");
      li.dataset.name = fn.name;
      li.appendChild(el("span", "name", fn.name + " "));
      fn.methods.forEach(function (m) { li.appendChild(el("span", "m", m)); });
      var summary = fn.handlers.map(function (h) { return h.summary; }).filter(Boolean)[0];
      if (summary) li.appendChild(el("div", "summary", summary));
      fn.handlers.forEach(function (h) {
        var where = el("div", "where", h.handler + "  " + h.location);
        if (h.doc) where.title = h.doc;
        li.appendChild(where);
      });
      li.dataset.text = (fn.name + " " + fn.methods.join(" ") + " " +
        fn.handlers.map(function (h) { return h.doc + " " + h.location; }).join(" ")).toLowerCase();
      li.onclick = function () { select(fn); };
      if (fn.name === state.selected) li.className = "selected";
      list.appendChild(li);
    });
    applyFilter();
  }

  function applyFilter() {
    var words = $("filter").value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0, items = $("functions").children;
    for (var i = 0; i < items.length; i++) {
      var text = items[i].dataset.text;
      var match = words.every(function (w) { return text.indexOf(w) >= 0; });
      items[i].hidden = !match;
      if (match) shown++;
    }
    $("count").textContent = shown + " of " + items.length + " functions";
  }

  function select(fn) {
    state.selected = fn.name;
    $("try-name").textContent = fn.name;
    $("subpath").value = fn.name;
    var first = fn.methods.filter(function (m) { return m !== "USE"; })[0] || "GET";
    $("method").value = first;
    var items = $("functions").children;
    for (var i = 0; i < items.length; i++) {
      items[i].className = items[i].dataset.name === fn.name ? "selected" : "";
    }
  }

  function showLoadError(error) {
    var box = $("load-error");
    if (!error) { box.hidden = true; $("load-error-page").removeAttribute("src"); return; }
    $("load-error-message").textContent = error.message;
    $("load-error-page").src = base + "load-error?g=" + state.generation;
    box.hidden = false;
  }

  function refresh() {
    return fetch(base + "functions.json", {cache: "no-store"}).then(function (r) {
      return r.json();
    }).then(function (data) {
      state.generation = data.generation;
      state.functions = data.functions;
      renderFunctions(data.functions);
      showLoadError(data.load_error);
    });
  }

  function time(seconds) { return new Date(seconds * 1000).toLocaleTimeString(); }

  function addFeed(cls, text) {
    var feed = $("feed");
    feed.insertBefore(el("li", cls, text), feed.firstChild);
    while (feed.children.length > FEED_LIMIT) feed.removeChild(feed.lastChild);
  }

  function connect() {
    var source = new EventSource(base + "events");
    source.onopen = function () {
      $("live").textContent = "live";
      refresh();  // what changed while we were away
    };
    source.onerror = function () { $("live").textContent = "reconnecting…"; };
    source.addEventListener("request", function (e) {
      var r = JSON.parse(e.data);
      var cls = r.status >= 500 ? "request bad" : "request";
      addFeed(cls, time(r.time) + " " + r.method + " " + r.path + " " + r.status + " " +
        r.duration_ms + " ms");
    });
    source.addEventListener("reload", function (e) {
      var r = JSON.parse(e.data);
      addFeed(r.ok ? "reload ok" : "reload bad", time(r.time) + " " + r.message);
      refresh();
    });
  }

  function parseHeaders(text) {
    var headers = {};
    text.split("\n").forEach(function (line) {
      var at = line.indexOf(":");
      if (at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    });
    return headers;
  }

  function traceId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
  }

  function showOutput(id) {
    return fetch(base + "traces/" + id, {cache: "no-store"}).then(function (r) {
      return r.ok ? r.json() : {lines: []};
    }).then(function (trace) {
      $("output").textContent = trace.lines.length ? trace.lines.map(function (l) {
        return l.level + " " + l.message + (l.exception ? "\n" + l.exception : "");
      }).join("\n") : "(nothing)";
    });
  }

  function send(event) {
    event.preventDefault();
    var method = $("method").value, id = traceId();
    var path = $("subpath").value.replace(/^\/+/, "");
    var query = $("query").value.replace(/^\?/, "");
    var url = root + "_functions/" + path + (query ? "?" + query : "");
    var headers = parseHeaders($("headers").value);
    headers[TRACE_HEADER] = id;
    var init = {method: method, headers: headers, cache: "no-store"};
    if (method !== "GET" && method !== "HEAD" && $("body").value) init.body = $("body").value;
    var started = performance.now();
    $("send").disabled = true;
    fetch(url, init).then(function (r) {
      return r.text().then(function (text) {
        var ms = performance.now() - started;
        $("response").hidden = false;
        $("status").textContent = r.status + " " + r.statusText;
        $("status").className = r.status >= 400 ? "bad" : "ok";
        $("duration").textContent = ms.toFixed(1) + " ms";
        var lines = [];
        r.headers.forEach(function (v, k) { lines.push(k + ": " + v); });
        $("response-headers").textContent = lines.join("\n");
        $("response-body").textContent = text ? pretty(text) : "(empty body)";
        return showOutput(id);
      });
    }, function (err) {
      $("response").hidden = false;
      $("status").textContent = "request failed: " + err;
      $("status").className = "bad";
    }).then(function () { $("send").disabled = false; });
  }

  $("filter").oninput = applyFilter;
  $("try-form").onsubmit = send;
  refresh();
  connect();
})();

/* h5press serve: reload after a rebuild, or show the build errors (served in development only). */
(function () {
  'use strict';
  var box = null;
  var events = new EventSource('/__h5press/events');
  function hide() { if (box) { box.remove(); box = null; } }
  /* Reload when this page or anything but a page changed (a stylesheet, a script, an image). */
  events.addEventListener('reload', function (e) {
    var paths = JSON.parse(e.data || '{}').paths || [];
    var here = decodeURIComponent(location.pathname).replace(/\/$/, '/index.html');
    hide();
    var shared = !paths.length || paths.some(function (p) { return !/\.html$/.test(p); });
    if (shared) location.reload();
    else if (paths.some(function (p) { return here.slice(-p.length - 1) === '/' + p; })) swap();
  });
  /* Only this page's text changed: swap its <main> in place (no flash, scroll kept), unless a
     component is involved (its script would have to run again) or the page's assets differ. */
  function assets(doc) {
    return [].map.call(doc.querySelectorAll('link[rel=stylesheet],script[src]'), function (e) { return e.getAttribute('href') || e.getAttribute('src'); }).join();
  }
  function swap() {
    fetch(location.href, { cache: 'no-store' }).then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); }).then(function (text) {
      var next = new DOMParser().parseFromString(text, 'text/html');
      var main = document.getElementById('main'), fresh = next.getElementById('main');
      if (!main || !fresh || assets(next) !== assets(document) || document.querySelector('[data-h5c]') || fresh.querySelector('[data-h5c]')) throw 0;
      main.replaceWith(document.importNode(fresh, true));
      document.title = next.title;
    }).catch(function () { location.reload(); });
  }
  events.addEventListener('ok', hide);
  events.addEventListener('failed', function (e) {
    hide();
    box = document.createElement('pre');
    box.id = 'h5press-error';
    box.setAttribute('role', 'alert');
    box.textContent = 'h5press build failed\n\n' + JSON.parse(e.data).message;
    var s = box.style;
    s.position = 'fixed'; s.inset = '0'; s.zIndex = '2147483647'; s.margin = '0'; s.padding = '16px';
    s.overflow = 'auto'; s.background = 'rgba(20, 20, 20, .94)'; s.color = '#ff8a80';
    s.font = '13px/1.5 ui-monospace, Menlo, monospace'; s.whiteSpace = 'pre-wrap';
    document.body.appendChild(box);
  });
})();

/* h5press service worker: one per bundle, scoped to the bundle's folder (docs/output.md). */
var C = self.H5_SW_CONFIG;
var PREFIX = 'h5press:' + C.campaign + ':';
var PRECACHE = PREFIX + 'precache:' + C.version;
var RUNTIME = PREFIX + 'runtime';
var API = PREFIX + 'api';
var SCOPE = self.registration.scope;
var HASHED = /\/assets\/[^/]+\.[0-9a-f]{10}\.[a-z0-9]+$/;

function abs(u) { return new URL(u, SCOPE).href; }

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(PRECACHE).then(function (cache) {
    return cache.addAll(C.precache.map(function (u) { return new Request(abs(u), { cache: 'no-cache' }); }));
  }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf(PREFIX + 'precache:') === 0 && k !== PRECACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('message', function (e) {
  if (e.data && e.data.type === 'SKIP_WAITING') self.skipWaiting();
});

function timed(request, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error('timeout')); }, ms);
    fetch(request).then(function (r) { clearTimeout(timer); resolve(r); },
      function (err) { clearTimeout(timer); reject(err); });
  });
}

function store(name, key, response) {
  if (response.ok) {
    var copy = response.clone();
    caches.open(name).then(function (c) { return c.put(key, copy); });
  }
  return response;
}

function cached(url) {
  return caches.match(url, { ignoreSearch: true }).then(function (hit) {
    return hit || (/\/$/.test(url) ? caches.match(url + 'index.html') : undefined);
  });
}

function page(request) {
  var key = request.url.split(/[?#]/)[0];
  return timed(request, C.timeout).then(function (r) { return store(RUNTIME, key, r); }).catch(function () {
    return cached(key).then(function (hit) { return hit || caches.match(abs(C.offline)); });
  });
}

function networkFirst(request, name) {
  return timed(request, C.timeout).then(function (r) { return store(name, request, r); }).catch(function (err) {
    return caches.match(request).then(function (hit) { if (hit) return name === API ? marked(hit) : hit; throw err; });
  });
}

/* A server's answer from the cache: marked, so that the page, which may believe itself online, does not show it as live. */
function marked(hit) {
  var headers = new Headers(hit.headers);
  headers.set('X-H5press-Cached', '1');
  return hit.blob().then(function (body) { return new Response(body, { status: hit.status, statusText: hit.statusText, headers: headers }); });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (r) { return store(RUNTIME, request, r); });
  });
}

self.addEventListener('fetch', function (e) {
  var request = e.request;
  if (request.method !== 'GET') return;
  var url = request.url;
  if (C.api && url.indexOf(C.api) === 0) {
    // Only public, identity-free reads may be shown stale offline; the rest is never cached.
    if (/\/(leaderboard|votes\/[^/]+)(\?|$)/.test(url)) e.respondWith(networkFirst(request, API));
    return;
  }
  if (request.mode === 'navigate') {
    if (url.indexOf(SCOPE) === 0) e.respondWith(page(request));
    return;
  }
  if (HASHED.test(url.split(/[?#]/)[0])) { e.respondWith(cacheFirst(request)); return; }
  if (url.indexOf(SCOPE) === 0) e.respondWith(networkFirst(request, RUNTIME));
});

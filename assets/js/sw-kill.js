/* h5press kill switch: service_worker is off for this bundle. Remove the worker and its caches. */
var PREFIX = 'h5press:' + self.H5_SW_CONFIG.campaign + ':';
self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf(PREFIX) === 0; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.registration.unregister(); })
    .then(function () { return self.clients.matchAll({ type: 'window' }); })
    .then(function (clients) { clients.forEach(function (c) { c.navigate(c.url); }); }));
});

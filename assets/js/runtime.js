/* h5press runtime: on every page. Campaign window and service-worker lifecycle. */
(function (w, d) {
  'use strict';
  var html = d.documentElement;
  var data = html.dataset;
  var now = Date.now();
  var start = data.start ? Date.parse(data.start) : NaN;
  var end = data.end ? Date.parse(data.end) : NaN;
  var state = now < start ? 'before' : now >= end ? 'after' : 'open';
  html.setAttribute('data-window', state);
  if (state !== 'open') {
    var notice = d.getElementById('h5-window');
    if (notice) {
      notice.textContent = notice.getAttribute('data-' + state);
      notice.hidden = false;
    }
  }

  var sw = navigator.serviceWorker;
  if (data.sw === '1' && sw && location.protocol !== 'file:') {
    var updating = false;
    var offer = function (worker) {
      var bar = d.getElementById('h5-update');
      if (!bar || !sw.controller) return;
      bar.hidden = false;
      bar.querySelector('button').onclick = function () {
        updating = true;
        worker.postMessage({ type: 'SKIP_WAITING' });
      };
    };
    var watch = function (worker) {
      worker.addEventListener('statechange', function () {
        if (worker.state === 'installed') offer(worker);
      });
    };
    sw.addEventListener('controllerchange', function () {
      if (updating) location.reload();
    });
    w.addEventListener('load', function () {
      sw.register((data.root || '') + 'sw.js').then(function (reg) {
        if (reg.waiting) offer(reg.waiting);
        if (reg.installing) watch(reg.installing);
        reg.addEventListener('updatefound', function () { watch(reg.installing); });
      }).catch(function () { /* no service worker: the page still works online */ });
    });
  }
  w.h5press = { campaign: data.campaign, window: state };
})(window, document);

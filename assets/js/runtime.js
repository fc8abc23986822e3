/* h5press runtime, on every page (docs/runtime.md): campaign window, per-campaign store, event outbox,
   points/badges/levels from campaign.yaml, analytics, consent gating, service-worker lifecycle. */
(function (w, d) {
  'use strict';
  var html = d.documentElement;
  var data = html.dataset;
  var campaign = data.campaign;
  var rulesEl = d.getElementById('h5-rules');
  var rules = rulesEl ? JSON.parse(rulesEl.textContent) : {};
  var now = Date.now();
  var state = now < Date.parse(data.start) ? 'before' : now >= Date.parse(data.end) ? 'after' : 'open';
  html.setAttribute('data-window', state);
  if (state !== 'open') {
    var notice = d.getElementById('h5-window');
    if (notice) {
      notice.textContent = notice.getAttribute('data-' + state);
      notice.hidden = false;
    }
  }

  /* Store: localStorage, keys namespaced per campaign so campaigns can share an origin. */
  var NS = 'h5press:' + campaign + ':';
  var memory = {};
  function get(key, fallback) {
    var raw;
    try { raw = localStorage.getItem(NS + key); } catch (e) { raw = memory[key]; }
    return raw == null ? fallback : JSON.parse(raw);
  }
  function set(key, value) {
    var raw = JSON.stringify(value);
    try { localStorage.setItem(NS + key, raw); } catch (e) { memory[key] = raw; }
  }

  /* Days end at local midnight in the campaign's timezone. */
  var dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone: rules.timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  function day(t) { return dayFormat.format(t ? new Date(t) : new Date()); }

  /* ULID: 48-bit time, 80 random bits, Crockford base32; sortable and unique without a server. */
  var B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  function ulid() {
    var t = Date.now(), out = '', i, bytes = new Uint8Array(16);
    for (i = 0; i < 10; i++) { out = B32.charAt(t % 32) + out; t = Math.floor(t / 32); }
    (w.crypto || w.msCrypto).getRandomValues(bytes);
    for (i = 0; i < 16; i++) out += B32.charAt(bytes[i] % 32);
    return out;
  }

  /* Outbox: every user action and analytics event, bounded (analytics dropped first), kept
     across reloads, sent by api.js (sites with api_url) in batches when online and consented. */
  var ANALYTICS = { view: 1, dwell: 1, share: 1, completion: 1 };
  var LIMIT = rules.outbox || 500;
  function emit(type, component, payload) {
    var event = { id: ulid(), v: 1, campaign: campaign, type: type, component: component || null, payload: payload || {}, at: new Date().toISOString() };
    var box = get('outbox', []);
    box.push(event);
    while (box.length > LIMIT) {
      var i = 0;
      while (i < box.length - 1 && !ANALYTICS[box[i].type]) i++;
      box.splice(ANALYTICS[box[i].type] ? i : 0, 1);
    }
    set('outbox', box);
    flush();
    return event;
  }
  /* Delivery is api.js's, present when the site has an api_url: the outbox only keeps. */
  function flush() { var send = (w.h5press || {}).send; if (send) send(); }
  function consented() { return !(rules.consent && rules.consent.required) || get('consent', false) === true; }

  /* Points: the campaign's actions with their per-day and per-campaign caps. */
  function wallet() { return get('points', { total: 0, actions: {}, badges: [] }); }
  function award(action, component, points) {
    var rule = (rules.actions || {})[action] || (points != null ? { points: points } : null);
    var wal = wallet();
    var today = day();
    var seen = wal.actions[action] || (wal.actions[action] = { count: 0, day: today, today: 0 });
    if (!rule || state !== 'open') return 0;
    if (seen.day !== today) { seen.day = today; seen.today = 0; }
    if (rule.per_campaign != null && seen.count >= rule.per_campaign) return 0;
    if (rule.per_day != null && seen.today >= rule.per_day) return 0;
    seen.count++;
    seen.today++;
    var was = level(wal.total);
    wal.total += rule.points;
    (rules.badges || []).forEach(function (b) {
      var when = b.when;
      var got = when.points ? wal.total >= when.points : when.action ? ((wal.actions[when.action] || {}).count || 0) >= when.count : streak() >= when.streak;
      if (got && wal.badges.indexOf(b.id) < 0) { wal.badges.push(b.id); emit('badge', component, { badge: b.id }); }
    });
    set('points', wal);
    emit('points', component, { action: action, points: rule.points, total: wal.total });
    var now = level(wal.total);
    if (now && now !== was) emit('level', component, { level: now.name, total: wal.total });
    changed();
    return rule.points;
  }
  function level(total) {
    var found = null;
    (rules.levels || []).forEach(function (l) { if (total >= l.min) found = l; });
    return found;
  }
  function streak() {
    var days = get('checkins', {}), n = 0, t = Date.now();
    if (!days[day(t)]) t -= 864e5;
    while (days[day(t)]) { n++; t -= 864e5; }
    return n;
  }
  var listeners = [];
  function changed() { listeners.forEach(function (fn) { fn(); }); }

  /* Self-tests for `h5press check`: every component root must have hydrated, and may add checks. */
  var tests = {};
  function selftest() {
    var problems = [];
    [].forEach.call(d.querySelectorAll('[data-h5c]'), function (el) {
      var name = el.getAttribute('data-h5c');
      var label = name + ' "' + el.getAttribute('data-id') + '": ';
      if (!el.hasAttribute('data-h5-ready')) problems.push(label + 'not hydrated (its script did not run)');
      else (tests[name] ? tests[name](el) : []).forEach(function (p) { problems.push(label + p); });
    });
    return problems;
  }

  /* Without api_url the server-backed calls are answered at once (api.js replaces them). */
  function noApi() {
    var e = new Error('no_api');
    e.status = 0;
    e.code = 'no_api';
    return Promise.reject(e);
  }

  w.h5press = {
    campaign: campaign, window: state, rules: rules, get: get, set: set, day: day, ulid: ulid,
    emit: emit, flush: flush, award: award, wallet: wallet, level: level, streak: streak,
    consent: function (yes) { set('consent', !!yes); flush(); }, consented: consented,
    on: function (fn) { listeners.push(fn); }, changed: changed,
    server: false, api: noApi, refresh: noApi, me: function () { return null; }, live: function () { return function () {}; },
    register: function (name, test) { tests[name] = test; },
    selftest: selftest,
    track: function (type, payload) { return emit(type, null, payload); }
  };

  if (rules.analytics) {
    emit('view', null, { page: location.pathname.split('/').pop() || 'index.html', ref: new URLSearchParams(location.search).get('ref') });
    var shown = Date.now();
    d.addEventListener('visibilitychange', function () {
      if (d.visibilityState === 'hidden') { emit('dwell', null, { ms: Date.now() - shown }); } else { shown = Date.now(); }
    });
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
      }).catch(function () { /* no service worker: the page still works, online and from the outbox */ });
    });
  }
})(window, document);

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

  /* Who and where (docs/runtime.md#analytics): the visitor id the head script made, a session that
     ends after 30 minutes without an event, the page inside the campaign, the experiment variants. */
  var visitor = get('visitor', null) || ulid();
  set('visitor', visitor);
  var page = location.pathname.replace(/\/$/, '/index.html').split('/').slice(-(data.root || '').split('../').length).join('/');
  var variants = {};
  (rules.experiments || []).forEach(function (id) {
    var v = html.getAttribute('data-v-' + id);
    if (v) variants[id] = v;
  });
  function session(t) {
    var s = get('session', {});
    if (!s.id || t - s.last > 18e5) s.id = ulid();
    s.last = t;
    set('session', s);
    return s.id;
  }

  /* Two queues, kept across reloads and bounded: the outbox of user actions for the server's
     rules (view, share and completion dropped first) and, when analytics is on, every event for
     the analytics endpoint (oldest dropped first). api.js delivers both when online and consented. */
  var DROPPABLE = { view: 1, share: 1, completion: 1 };
  var ANALYTICS_ONLY = { dwell: 1, start: 1, claim: 1 };
  var LIMIT = rules.outbox || 500;
  function queue(name, event, droppable) {
    var box = get(name, []);
    box.push(event);
    while (box.length > LIMIT) {
      var i = 0;
      while (i < box.length - 1 && !droppable[box[i].type]) i++;
      box.splice(droppable[box[i].type] ? i : 0, 1);
    }
    set(name, box);
  }
  function emit(type, component, payload) {
    var t = Date.now();
    var event = { id: ulid(), v: 1, campaign: campaign, type: type, component: component || null, payload: payload || {},
      at: new Date(t).toISOString(), visitor: visitor, session: session(t), page: page, variants: variants };
    if (!ANALYTICS_ONLY[type]) queue('outbox', event, DROPPABLE);
    if (rules.analytics) queue('analytics', event, {});
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
    track: function (type, payload) { return emit(type, null, payload); },
    visitor: visitor, variant: function (id) { return variants[id] || null; },
    /* A share names a new share id and puts it on the shared link (ref=<id>); a view from that link records it. */
    shareLink: function (href) {
      var url = new URL(href || location.href), id = ulid();
      url.hash = '';
      url.searchParams.set('ref', id);
      return { id: id, url: url.href };
    }
  };

  if (rules.analytics) {
    var ref = new URLSearchParams(location.search).get('ref');
    var view = emit('view', null, ref ? { ref: ref } : {}).id;
    var started = {};
    var start = function (e) {
      var block = e.target.closest && e.target.closest('[data-h5c][data-id]');
      var id = block && block.getAttribute('data-id');
      if (id && !started[id]) { started[id] = 1; emit('start', id, { kind: block.getAttribute('data-h5c') }); }
    };
    d.addEventListener('click', start, true);
    d.addEventListener('input', start, true);
    /* Dwell: visible time only, every 15 s and when the page is hidden or left; api.js sends with a beacon then. */
    var shown = d.visibilityState === 'visible' ? Date.now() : 0;
    var dwell = function () {
      var t = Date.now();
      if (shown && t > shown) emit('dwell', null, { view: view, ms: t - shown });
      shown = shown && t;
    };
    var leave = function () {
      w.h5press.leaving = true;
      dwell();
      shown = 0;
      flush();
    };
    if (rules.dwell) {
      setInterval(function () { if (d.visibilityState === 'visible') dwell(); }, 15000);
      d.addEventListener('visibilitychange', function () {
        if (d.visibilityState === 'hidden') leave();
        else { w.h5press.leaving = false; shown = Date.now(); }
      });
      w.addEventListener('pagehide', leave);
      w.addEventListener('pageshow', function (e) { if (e.persisted) { w.h5press.leaving = false; shown = Date.now(); } });
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
      }).catch(function () { /* no service worker: the page still works, online and from the outbox */ });
    });
  }
})(window, document);

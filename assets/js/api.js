/* h5press API client, on the pages of sites with an api_url (after runtime.js): the identity
   token, outbox delivery with backoff, the server's /me reconciled into the local wallet, and
   live updates by Server-Sent Events with a polling fallback. The server decides points and
   prizes; the page shows its own state at once and lets the server correct it. */
(function (w, d) {
  'use strict';
  var h = w.h5press;
  var base = h.rules.api;
  var root = base + 'api/v1/campaigns/' + encodeURIComponent(h.campaign);
  var KEY = 'h5press:token:' + base; /* one identity per server, shared by its campaigns */
  var memory = null;
  var pending = null;

  function token() {
    try { return localStorage.getItem(KEY); } catch (e) { return memory; }
  }
  function keepToken(value) {
    memory = value;
    try {
      if (value) localStorage.setItem(KEY, value); else localStorage.removeItem(KEY);
    } catch (e) { /* private mode: the token lives as long as the page */ }
  }
  function failure(status, code, message) {
    var e = new Error(message || code);
    e.status = status;
    e.code = code;
    return e;
  }
  function offline() { return failure(0, 'offline', '网络不可用'); }
  function request(method, url, body, auth) {
    if (navigator.onLine === false) return Promise.reject(offline());
    var headers = {};
    if (body) headers['Content-Type'] = 'application/json';
    if (auth) headers.Authorization = 'Bearer ' + auth;
    return fetch(url, { method: method, headers: headers, body: body ? JSON.stringify(body) : null, credentials: 'omit', cache: 'no-store' })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          /* the service worker's copy while the server is out of reach: offline, with what it last said */
          var cached = r.ok && r.headers.get('X-H5press-Cached');
          if (r.ok && !cached) return b;
          var e = cached ? offline() : failure(r.status, b.error || 'http_' + r.status, b.message);
          e.body = b;
          e.retry = parseInt(r.headers.get('Retry-After'), 10) || 0;
          throw e;
        });
      }, function () { throw offline(); });
  }
  function session() {
    var t = token();
    if (t) return Promise.resolve(t);
    pending = pending || request('POST', base + 'api/v1/session').then(function (b) {
      pending = null;
      if (token()) return token(); /* identify() won the race: the institution's identity stands */
      keepToken(b.token);
      reopen();
      return b.token;
    }, function (e) { pending = null; throw e; });
    return pending;
  }

  /* Reads work without an identity; writes need consent where the campaign asks for it. */
  function api(method, path, body, retried) {
    var url = path.indexOf('/api/') === 0 ? base + path.slice(1) : root + path;
    if (!h.consented()) {
      return method === 'GET' ? request(method, url) : Promise.reject(failure(0, 'consent', '请先同意隐私条款'));
    }
    return session().then(function (t) { return request(method, url, body, t); }).catch(function (e) {
      if (e.status !== 401 || retried) throw e;
      keepToken(null); /* expired or from another server: start a new identity once */
      return api(method, path, body, true);
    });
  }

  /* The server's view of this person, with what the outbox has not delivered yet on top. */
  function reconcile(me) {
    h.set('me', me);
    var wallet = h.wallet();
    var today = h.day();
    var total = me.points;
    var badges = (me.badges || []).slice();
    var actions = {};
    Object.keys(me.actions || {}).forEach(function (a) {
      actions[a] = { count: me.actions[a].count, today: me.actions[a].today, day: today };
    });
    h.get('outbox', []).forEach(function (e) {
      var p = e.payload || {};
      if (e.type === 'points') {
        total += p.points || 0;
        var seen = actions[p.action] || (actions[p.action] = { count: 0, today: 0, day: today });
        seen.count++;
        if (h.day(e.at) === today) seen.today++;
      }
      if (e.type === 'badge' && badges.indexOf(p.badge) < 0) badges.push(p.badge);
    });
    wallet.total = total;
    wallet.badges = badges;
    wallet.actions = actions;
    h.set('points', wallet);
    var days = h.get('checkins', {});
    ((me.streak || {}).days || []).forEach(function (day) { days[day] = days[day] || { at: null }; });
    h.set('checkins', days);
    h.changed();
    return me;
  }
  var reading = null;
  function refresh() { /* blocks asking together share one request */
    reading = reading || api('GET', '/me').then(function (me) { reading = null; return reconcile(me); },
      function (e) { reading = null; throw e; });
    return reading;
  }

  /* Outbox delivery: batches of up to 50, smaller after 413, exponential backoff with jitter
     (honouring Retry-After) on network and server errors, resumed at once when back online. */
  var size = 50;
  var delay = 0;
  var timer = 0;
  var sending = false;
  function send() {
    deliver();
    var box = h.get('outbox', []);
    if (sending || timer || !box.length || !h.consented() || navigator.onLine === false) return;
    sending = true;
    var batch = box.slice(0, size);
    api('POST', '/events', { events: batch }).then(function (b) {
      drop('outbox', batch);
      delay = 0;
      if (b.me) reconcile(b.me);
      return true;
    }, function (e) {
      if (e.status === 413 && size > 1) { size = Math.ceil(size / 2); return true; }
      if (e.status === 400 || e.status === 422) { drop('outbox', batch); return true; } /* malformed: retrying cannot help */
      delay = Math.min(delay ? delay * 2 : 1000, 300000);
      timer = setTimeout(function () { timer = 0; send(); }, Math.max(delay * (0.5 + Math.random() / 2), e.retry * 1000 || 0));
      return false;
    }).then(function (again) {
      sending = false;
      if (again) send();
    });
  }
  function drop(name, batch) {
    var sent = {};
    batch.forEach(function (e) { sent[e.id] = 1; });
    h.set(name, h.get(name, []).filter(function (e) { return !sent[e.id]; }));
  }

  /* Analytics (no identity needed): while the page is shown, batches by fetch, dropped once the server
     has them; when it is hidden or left, one beacon (text/plain, it survives the page) of what this page
     has not beaconed yet, kept until a later fetch: the server keeps each event id once. */
  var ANALYTICS = root + '/analytics';
  var beaconed = {};
  var delivering = false;
  function deliver() {
    var box = h.get('analytics', []);
    if (!box.length || !h.consented() || navigator.onLine === false) return;
    if (d.visibilityState === 'hidden' || h.leaving) { /* a fetch still under way may not outlive the page */
      var fresh = box.filter(function (e) { return !beaconed[e.id]; }).slice(-size);
      if (fresh.length && navigator.sendBeacon && navigator.sendBeacon(ANALYTICS, JSON.stringify({ events: fresh }))) {
        fresh.forEach(function (e) { beaconed[e.id] = 1; });
      }
      return;
    }
    if (delivering) return;
    delivering = true;
    var batch = box.slice(0, size);
    request('POST', ANALYTICS, { events: batch }).then(function () { drop('analytics', batch); return true; }, function (e) {
      if (e.status === 400 || e.status === 422) { drop('analytics', batch); return true; }
      return false; /* offline or refused: the next event, `online` or showing the page tries again */
    }).then(function (again) {
      delivering = false;
      if (again) deliver();
    });
  }
  w.addEventListener('online', function () {
    clearTimeout(timer);
    timer = 0;
    delay = 0;
    send();
    if (poller) { clearInterval(poller); poller = 0; errors = 0; open(); } /* try the stream again */
  });

  /* Live updates: one EventSource per page; after repeated failures, or without EventSource,
     subscribers are called with null every 15 s and read again themselves. */
  var KINDS = ['leaderboard', 'team', 'vote'];
  var subscribers = { leaderboard: [], team: [], vote: [] };
  var source = null;
  var poller = 0;
  var errors = 0;
  function dispatch(kind, data) {
    subscribers[kind].slice().forEach(function (fn) { fn(data); });
  }
  function poll() {
    if (source) { source.close(); source = null; }
    poller = poller || setInterval(function () { KINDS.forEach(function (k) { dispatch(k, null); }); }, 15000);
  }
  function open() {
    if (source || poller) return;
    if (!w.EventSource) { poll(); return; }
    var t = h.consented() && token();
    source = new EventSource(root + '/stream' + (t ? '?token=' + encodeURIComponent(t) : ''));
    KINDS.forEach(function (kind) {
      source.addEventListener(kind, function (e) {
        errors = 0;
        var data = JSON.parse(e.data);
        if (kind === 'team' && h.get('me', null)) { var me = h.get('me'); me.team = data; reconcile(me); }
        dispatch(kind, data);
      });
    });
    source.onopen = function () { errors = 0; };
    source.onerror = function () {
      if (source.readyState === 2 || ++errors >= 3) poll();
    };
  }
  function reopen() {
    if (!source && !poller) return;
    if (source) source.close();
    clearInterval(poller);
    source = null;
    poller = 0;
    open();
  }
  function live(kind, fn) {
    subscribers[kind].push(fn);
    open();
    return function () {
      var i = subscribers[kind].indexOf(fn);
      if (i >= 0) subscribers[kind].splice(i, 1);
    };
  }

  h.server = true;
  h.api = function (method, path, body) { return api(method, path, body, false); };
  h.me = function () { return h.get('me', null); };
  h.refresh = refresh;
  h.live = live;
  h.send = send;
  /* An institution's own login: a token it signed for this person (see docs/runtime.md). */
  h.identify = function (value) {
    keepToken(value);
    reopen();
    return refresh();
  };
  d.addEventListener('visibilitychange', function () {
    if (d.visibilityState === 'visible') send();
  });
  deliver();
  if (h.get('outbox', []).length) send();
  else if (token() && h.consented()) refresh().catch(function () { /* offline: the stored state stands */ });
})(window, document);

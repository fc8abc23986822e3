/* arena: allocate virtual money, run a seeded market path round by round, rank against seeded
   peers on the same path. The model is documented in schema.py; state survives reloads. */
(function (d) {
  'use strict';
  var h = window.h5press;

  function mulberry32(a) {
    return function () {
      a = a + 0x6D2B79F5 | 0;
      var t = Math.imul(a ^ a >>> 15, 1 | a);
      t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
      return ((t ^ t >>> 14) >>> 0) / 4294967296;
    };
  }
  function fnv(s) {
    var x = 0x811C9DC5;
    for (var i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619);
    return x >>> 0;
  }
  function monday() { /* Monday of this week, in the campaign's timezone */
    var t = Date.parse(h.day() + 'T00:00:00Z');
    return new Date(t - ((new Date(t).getUTCDay() + 6) % 7) * 864e5).toISOString().slice(0, 10);
  }
  /* Per-round returns: returns[t][i] for fund i in round t + 1. */
  function market(cfg, seed) {
    var rand = mulberry32(seed), out = [], shocks = {};
    cfg.events.forEach(function (e) { shocks[e.round] = e.shock; });
    for (var t = 1; t <= cfg.rounds; t++) {
      out.push(cfg.funds.map(function (f) {
        var z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
        var r = f.mean / 100 / cfg.per_year + f.volatility / 100 / Math.sqrt(cfg.per_year) * z + ((shocks[t] || {})[f.kind] || 0) / 100;
        return Math.max(-0.9, r);
      }));
    }
    return out;
  }
  /* Buy and hold: the portfolio value after each round (capital first). */
  function path(cfg, returns, weights) {
    var hold = weights.map(function (w) { return cfg.capital * w; });
    var sum = function () { return hold.reduce(function (a, b) { return a + b; }, 0); };
    var values = [sum()];
    returns.forEach(function (rs) {
      hold = hold.map(function (v, i) { return v * (1 + rs[i]); });
      values.push(sum());
    });
    return values;
  }
  function stats(cfg, values) {
    var peak = values[0], dd = 0, rs = [], mean = 0, sq = 0;
    values.forEach(function (v, i) {
      peak = Math.max(peak, v);
      dd = Math.max(dd, (peak - v) / peak);
      if (i) rs.push(v / values[i - 1] - 1);
    });
    rs.forEach(function (r) { mean += r / rs.length; });
    rs.forEach(function (r) { sq += (r - mean) * (r - mean) / rs.length; });
    return { value: values[values.length - 1], ret: values[values.length - 1] / values[0] - 1, dd: dd, vol: Math.sqrt(sq * cfg.per_year) };
  }
  function beaten(cfg, seed, returns, final) {
    var growth = cfg.funds.map(function (f, i) {
      return returns.reduce(function (g, rs) { return g * (1 + rs[i]); }, 1);
    });
    var below = 0;
    for (var k = 1; k <= cfg.peers; k++) {
      var rand = mulberry32((seed + Math.imul(k, 0x9E3779B9)) >>> 0);
      var ws = cfg.funds.map(function () { return -Math.log(1 - rand()); });
      var total = ws.reduce(function (a, b) { return a + b; }, 0);
      var v = ws.reduce(function (a, w, i) { return a + cfg.capital * w / total * growth[i]; }, 0);
      if (v < final) below++;
    }
    return Math.round(100 * below / cfg.peers);
  }
  function yuan(v) { return String(Math.round(v)).replace(/\B(?=(\d{3})+$)/g, ',') + ' 元'; }
  function pct(x, sign) { return (sign && x > 0 ? '+' : '') + (100 * x).toFixed(2) + '%'; }

  [].forEach.call(d.querySelectorAll('[data-h5c="arena"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var key = 'arena:' + id;
    var st = h.get(key, null) || { alloc: cfg.funds.map(function () { return 0; }), round: -1, attempt: 0 };
    var $ = function (s) { return root.querySelector(s); };
    var open = h.window === 'open';
    var seed = st.seed != null ? st.seed : cfg.seed != null ? cfg.seed : fnv(h.campaign + '/' + id + '/' + monday());
    var returns = market(cfg, seed);

    function weights() { return st.alloc.map(function (a) { return a / 100; }); }
    function sum() { return st.alloc.reduce(function (a, b) { return a + b; }, 0); }
    function save() { h.set(key, st); }
    function draw(values) {
      var all = values.concat(cfg.capital * 0.9, cfg.capital * 1.1);
      var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
      var y = function (v) { return (152 - (v - lo) / (hi - lo) * 144).toFixed(1); };
      var x = function (i) { return (i * 320 / cfg.rounds).toFixed(1); };
      var base = $('.h5c-arena__base');
      base.setAttribute('y1', y(cfg.capital));
      base.setAttribute('y2', y(cfg.capital));
      $('.h5c-arena__line').setAttribute('d', values.map(function (v, i) { return (i ? 'L' : 'M') + x(i) + ' ' + y(v); }).join(''));
    }
    function paint() {
      var started = st.round >= 0, done = st.round >= cfg.rounds, total = sum();
      [].forEach.call(root.querySelectorAll('[data-fund]'), function (li, i) {
        li.querySelector('output').textContent = st.alloc[i] + '%';
        li.querySelector('[data-d="-1"]').disabled = !open || started || !st.alloc[i];
        li.querySelector('[data-d="1"]').disabled = !open || started || total >= 100;
      });
      $('.h5c-arena__sum').textContent = started ? '配置已锁定，合计 100%' : total === 100 ? '已配置 100%，可以开始模拟' : '已配置 ' + total + '%，还差 ' + (100 - total) + '%';
      $('[data-act="start"]').disabled = !open || started || total !== 100;
      $('[data-act="next"]').disabled = $('[data-act="fast"]').disabled = !open || !started || done;
      $('[data-seed]').textContent = '行情编号 ' + seed;
      var values = started ? path(cfg, returns.slice(0, st.round), weights()) : [cfg.capital];
      draw(values);
      var news = null;
      cfg.events.forEach(function (e) { if (e.round === st.round) news = e.text; });
      var now = root.querySelectorAll('.h5c-arena__now span');
      now[0].textContent = '第 ' + Math.max(st.round, 0) + ' / ' + cfg.rounds + ' ' + cfg.unit;
      now[1].textContent = '资产 ' + yuan(values[values.length - 1]) + (started ? '（' + pct(values[values.length - 1] / cfg.capital - 1, true) + '）' : '');
      $('.h5c-arena__news').textContent = news ? '市场消息：' + news : !started ? '尚未开始' : done ? '模拟结束' : '行情平稳，继续观察';
      var result = $('.h5c-arena__result');
      result.hidden = !done;
      $('[data-act="again"]').disabled = !open;
      if (!done) return;
      var s = stats(cfg, values);
      var show = function (k, text) { var el = root.querySelector('[data-r="' + k + '"]'); if (el) el.textContent = text; };
      show('value', yuan(s.value));
      show('return', pct(s.ret, true));
      show('drawdown', pct(s.dd));
      show('volatility', pct(s.vol));
      if (cfg.peers) show('rank', '击败了 ' + beaten(cfg, seed, returns, s.value) + '% 的模拟参与者（共 ' + cfg.peers + ' 位，同一行情）');
      var risky = 0;
      cfg.funds.forEach(function (f, i) { if (f.volatility > cfg.funds[risky].volatility) risky = i; });
      var alone = stats(cfg, path(cfg, returns, cfg.funds.map(function (f, i) { return i === risky ? 1 : 0; })));
      show('compare', '同一行情下，若全部买入「' + cfg.funds[risky].name + '」，收益率 ' + pct(alone.ret, true) + '，最大回撤 ' + pct(alone.dd) + (st.points ? '。已获得 ' + st.points + ' 积分。' : '。'));
    }
    function finish() {
      var s = stats(cfg, path(cfg, returns, weights()));
      var rank = cfg.peers ? beaten(cfg, seed, returns, s.value) : null;
      var r2 = function (x) { return Math.round(x * 10000) / 100; };
      h.emit('arena.complete', id, { seed: seed, attempt: st.attempt, value: Math.round(s.value), return: r2(s.ret), drawdown: r2(s.dd), volatility: r2(s.vol), beaten: rank });
      if (!st.awarded) {
        st.awarded = true;
        st.points = h.award(cfg.action, id, cfg.points);
        h.emit('completion', id, { kind: 'arena' });
      }
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b || b.disabled) return;
      var act = b.getAttribute('data-act');
      if (b.hasAttribute('data-d')) {
        var i = +b.closest('[data-fund]').getAttribute('data-fund');
        st.alloc[i] = Math.max(0, Math.min(st.alloc[i] + cfg.step * b.getAttribute('data-d'), st.alloc[i] + 100 - sum()));
      } else if (act === 'start') {
        st.round = 0;
        st.seed = seed;
        st.attempt++;
        var alloc = {};
        cfg.funds.forEach(function (f, n) { alloc[f.id] = st.alloc[n]; });
        h.emit('arena.start', id, { allocation: alloc, seed: seed, attempt: st.attempt });
      } else if (act === 'next' || act === 'fast') {
        st.round = act === 'fast' ? cfg.rounds : st.round + 1;
        if (st.round === cfg.rounds) finish();
      } else if (act === 'again') {
        st.round = -1;
      }
      save();
      paint();
      if (act === 'again') root.querySelector('[data-fund] button:not([disabled])').focus();
    });
    paint();
    root.setAttribute('data-h5-ready', '');
  });
  h.register('arena', function (root) {
    var st = h.get('arena:' + root.getAttribute('data-id'), null);
    var problems = [];
    if (!/^M[\d.]+ [\d.]+/.test(root.querySelector('.h5c-arena__line').getAttribute('d'))) problems.push('no value line drawn');
    if (h.window === 'open' && !root.querySelectorAll('button:not([disabled])').length) problems.push('nothing can be operated');
    if (st && st.round >= 0 && st.alloc.reduce(function (a, b) { return a + b; }, 0) !== 100) problems.push('a started game is not 100 % allocated');
    return problems;
  });
})(document);

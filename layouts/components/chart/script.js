/* chart: bar, line and pie charts are drawn at build time and need no script. The calculator
   (定投复利) redraws as its sliders move, keeps its last values, and sends them as one event
   once the visitor stops moving them. `draw` mirrors calc_plot in schema.py line by line. */
(function (w, d) {
  'use strict';
  var h = window.h5press;
  var W = 280;

  /* Future value of `m` paid at each month's end for `n` months plus `l` paid at the start,
     compounded monthly at the nominal annual `rate` (%): i = rate / 1200,
     FV = m·((1+i)^n − 1)/i + l·(1+i)^n; with i = 0, FV = m·n + l. */
  function fv(m, rate, n, l) {
    var i = rate / 1200, g = Math.pow(1 + i, n);
    return i ? m * (g - 1) / i + l * g : m * n + l;
  }
  function niceStep(span, n) {
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }
  function tw(s) {
    for (var n = 0, i = 0; i < s.length; i++) n += s.charCodeAt(i) > 0x2e7f ? 13 : 13 * 0.6;
    return n;
  }
  function r1(v) { return String(Math.floor(v * 10 + 0.5) / 10); }
  function money(v) { return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',') + ' 元'; }
  function show(k, v) { return k === 'rate' ? v + '%' : k === 'years' ? v + ' 年' : money(v); }
  function values(root) {
    var v = { initial: 0 };
    [].forEach.call(root.querySelectorAll('[data-key]'), function (inp) { v[inp.getAttribute('data-key')] = +inp.value; });
    v.invested = v.monthly * 12 * v.years + v.initial;
    v.value = fv(v.monthly, v.rate, 12 * v.years, v.initial);
    return v;
  }

  function draw(root, v) {
    var years = v.years, inv = [], val = [], ticks = [], t, s = '';
    for (t = 0; t <= years; t++) {
      inv.push(v.monthly * 12 * t + v.initial);
      val.push(fv(v.monthly, v.rate, 12 * t, v.initial));
    }
    var top = 12, bottom = 156, right = W - 16, end = val[years];
    var step = niceStep(Math.max(end, 1), 4);
    if (end > 0) for (t = 0; t <= Math.ceil(end / step); t++) ticks.push(step * t);
    else ticks = [0, step];
    var yt = ticks.map(function (n) { return step >= 1000 && n ? n / 1e4 + '万' : String(n); });
    var left = Math.max.apply(null, yt.map(tw)) + 8;
    var xstep = Math.max(1, Math.round(niceStep(years, 5)));
    function x(n) { return r1(left + (right - left) * n / years); }
    function y(n) { return r1(bottom - (bottom - top) * n / ticks[ticks.length - 1]); }
    function pts(a) { return a.map(function (n, i) { return x(i) + ',' + y(n); }); }
    var lv = pts(val).join('L'), li = pts(inv).join('L');
    ticks.forEach(function (n, i) {
      s += '<line class="h5c-chart__grid" x1="' + r1(left) + '" x2="' + right + '" y1="' + y(n) + '" y2="' + y(n) + '"/><text x="' +
        r1(left) + '" dx="-5" y="' + y(n) + '" dy=".35em" text-anchor="end">' + yt[i] + '</text>';
    });
    for (t = 0; t <= years; t += xstep) s += '<text x="' + x(t) + '" y="174" text-anchor="middle">' + t + '年</text>';
    s += '<path class="h5c-chart__area k0" d="M' + lv + 'L' + pts(inv).reverse().join('L') + 'Z"/><path class="h5c-chart__area k1" d="M' +
      x(0) + ',' + y(0) + 'L' + li + 'L' + x(years) + ',' + y(0) + 'Z"/><path class="h5c-chart__line k0" d="M' + lv +
      '"/><path class="h5c-chart__line k1" d="M' + li + '"/>';
    root.querySelector('[data-plot]').innerHTML = s;
    var rows = '';
    for (t = 0; t <= years; t++) rows += '<tr><th scope="row">' + t + '</th><td>' + money(inv[t]).slice(0, -2) + '</td><td>' + money(val[t]).slice(0, -2) + '</td></tr>';
    root.querySelector('[data-out="rows"]').innerHTML = rows;
  }

  function calculator(root) {
    var id = root.getAttribute('data-id');
    var key = 'chart:' + id;
    var inputs = root.querySelectorAll('[data-key]');
    var title = root.querySelector('.h5c-chart__title').textContent;
    var saved = h.get(key, null) || {};
    var timer = null;
    function out(name, text) { root.querySelector('[data-out="' + name + '"]').textContent = text; }
    function update(done) {
      var v = values(root);
      [].forEach.call(inputs, function (inp) {
        var k = inp.getAttribute('data-key');
        root.querySelector('[data-show="' + k + '"]').textContent = show(k, v[k]);
        inp.setAttribute('aria-valuetext', show(k, v[k]));
      });
      out('invested', money(v.invested));
      out('value', money(v.value));
      out('gain', money(v.value - v.invested));
      var sum = title + '：' + v.years + ' 年共投入 ' + money(v.invested) + '，期末价值约 ' + money(v.value);
      root.querySelector('svg').setAttribute('aria-label', sum);
      if (done) out('status', sum);
      draw(root, v);
      return v;
    }
    function send() {
      if (timer === null) return;
      clearTimeout(timer);
      timer = null;
      var v = values(root);
      h.emit('chart.calculate', id, { monthly: v.monthly, rate: v.rate, years: v.years, initial: v.initial,
        invested: Math.round(v.invested), value: Math.round(v.value) });
    }
    [].forEach.call(inputs, function (inp) {
      var k = inp.getAttribute('data-key');
      if (typeof saved[k] === 'number' && saved[k] >= +inp.min && saved[k] <= +inp.max) inp.value = saved[k];
      inp.disabled = h.window !== 'open';
    });
    root.addEventListener('input', function () { update(false); });
    root.addEventListener('change', function () {
      var v = update(true);
      h.set(key, { monthly: v.monthly, rate: v.rate, years: v.years, initial: v.initial });
      clearTimeout(timer);
      timer = setTimeout(send, 800); /* one event when the visitor stops, not one per step */
    });
    w.addEventListener('pagehide', send);
    update(false);
  }

  [].forEach.call(d.querySelectorAll('[data-h5c="chart"]'), function (root) {
    if (JSON.parse(root.getAttribute('data-config')).calc) calculator(root);
    root.setAttribute('data-h5-ready', '');
  });
  h.register('chart', function (el) {
    var problems = el.querySelector('svg path, svg rect') ? [] : ['nothing is drawn'];
    if (JSON.parse(el.getAttribute('data-config')).calc) {
      var v = values(el);
      if (el.querySelector('[data-out="value"]').textContent !== money(v.value)) problems.push('the final value does not match the sliders');
      if (h.window === 'open' && el.querySelector('input:disabled')) problems.push('a slider is disabled');
    }
    return problems;
  });
})(window, document);

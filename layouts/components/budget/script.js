/* budget: allocate the income, play the weeks (seeded events), score the month; state survives
   reload; start and completion are outbox events; points on the first completion only. */
(function (d) {
  'use strict';
  var h = window.h5press;
  var NAMES = { plan: 1, play: 1, report: 1 };

  /* mulberry32: a small seeded generator, so one seed always gives the same month. */
  function rng(a) {
    return function () {
      a = (a + 0x6D2B79F5) | 0;
      var t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function hash(s) {
    for (var i = 0, x = 2166136261; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619);
    return x >>> 0;
  }
  function yuan(n) { return (n < 0 ? '−' : '') + Math.abs(Math.round(n)) + ' 元'; }

  /* Each week one event not drawn yet is picked; it happens with its chance (-1: a quiet week). */
  function draws(cfg, seed) {
    var r = rng(seed), pool = cfg.events.map(function (e, i) { return i; }), out = [];
    for (var w = 0; w < cfg.weeks; w++) {
      if (!pool.length) { out.push(-1); continue; }
      var e = pool.splice(Math.floor(r() * pool.length), 1)[0];
      out.push(r() < cfg.events[e].chance ? e : -1);
    }
    return out;
  }

  /* The month after `w` weeks: balances per category, and at the end the score with its parts. */
  function month(cfg, st, w) {
    var ev = {}, drawn = draws(cfg, st.seed), bal = {};
    drawn.slice(0, w).forEach(function (i) { if (i >= 0) ev[cfg.events[i].category] = (ev[cfg.events[i].category] || 0) + cfg.events[i].amount; });
    var over = 0, save = 0, wants = 0, debt = 0, paid = null, repay = null;
    cfg.cats.forEach(function (c) {
      var a = st.alloc[c.id], e = ev[c.id] || 0;
      bal[c.id] = c.kind === 'spend' ? a - Math.round(a * w / cfg.weeks) + e : a + e;
      if (c.kind === 'spend') {
        if (e < 0) over -= e; else save += e;
        if (!c.essential) wants += Math.max(0, a - e);
      } else if (c.kind === 'savings') save += a + e;
      else {
        repay = c;
        paid = Math.max(0, Math.min(a + e, c.bill));
        if (a + e > c.bill) save += a + e - c.bill;
        if (a + e < 0) over -= a + e;
      }
    });
    if (save < 0) { debt = -save; save = 0; }
    var used = Math.min(save, over);
    save -= used;
    debt += over - used;
    var g = cfg.goals, rate = save / cfg.income, share = wants / cfg.income, parts = [];
    if (repay) {
      parts.push(['信用卡还款', paid >= repay.bill ? 25 : paid >= repay.minimum ? 12 : 0, 25,
        paid >= repay.bill ? '全额还款 ' + yuan(paid) + '，不计利息' : paid >= repay.minimum ? '只还了 ' + yuan(paid) + '，剩余 ' + yuan(repay.bill - paid) + ' 要计息' : '还款 ' + yuan(paid) + '，低于最低还款 ' + yuan(repay.minimum) + '，逾期']);
    }
    parts.push(['储蓄率', 25 * Math.min(1, rate / g.rate), 25, '月底储蓄 ' + yuan(save) + '，占收入 ' + Math.round(rate * 100) + '%（目标 ' + Math.round(g.rate * 100) + '%）']);
    parts.push(['应急金', 20 * Math.min(1, save / g.buffer), 20, '目标至少留 ' + yuan(g.buffer)]);
    parts.push(['透支', 15 * Math.max(0, 1 - debt / (0.2 * cfg.income)), 15, debt ? '超支刷卡新增欠款 ' + yuan(debt) : '没有新增信用卡欠款']);
    parts.push(['非必要开支', 15 * (share <= g.wants ? 1 : Math.max(0, 1 - (share - g.wants) / g.wants)), 15, '占收入 ' + Math.round(share * 100) + '%（建议不超过 ' + Math.round(g.wants * 100) + '%）']);
    var got = 0, max = 0;
    parts.forEach(function (p) { got += p[1]; max += p[2]; });
    return { drawn: drawn, bal: bal, save: save, debt: debt, paid: paid, overspent: over, parts: parts, score: Math.round(100 * got / max) };
  }

  [].forEach.call(d.querySelectorAll('[data-h5c="budget"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var key = 'budget:' + id;
    var st = h.get(key, null);
    function fresh(round) {
      var alloc = {};
      cfg.cats.forEach(function (c) { alloc[c.id] = c.default; });
      return { step: 'plan', alloc: alloc, week: 0, seed: null, round: round || 0, awarded: st ? st.awarded : false };
    }
    if (!st || !NAMES[st.step]) st = fresh(0);
    function $(s) { return root.querySelector(s); }
    var status = $('.h5c-budget__status');
    function left() {
      var sum = 0;
      cfg.cats.forEach(function (c) { sum += st.alloc[c.id]; });
      return cfg.income - sum;
    }
    function band(score) {
      var found = cfg.advice[0];
      cfg.advice.forEach(function (b) { if (score >= b.min_score) found = b; });
      return found;
    }
    function save() { h.set(key, st); }

    function paint() {
      var open = h.window === 'open', rest = left();
      root.setAttribute('data-step', st.step);
      [].forEach.call(root.querySelectorAll('[data-panel]'), function (p) { p.hidden = p.getAttribute('data-panel') !== st.step; });
      [].forEach.call(root.querySelectorAll('.h5c-budget__steps li'), function (li) {
        if (li.getAttribute('data-step') === st.step) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
      });
      if (st.step === 'plan') {
        cfg.cats.forEach(function (c) {
          var li = $('[data-cat="' + c.id + '"]'), v = st.alloc[c.id], input = li.querySelector('input');
          input.value = v;
          input.disabled = !open;
          input.setAttribute('aria-valuetext', v + ' 元');
          li.querySelector('[data-amount]').textContent = v;
          li.querySelector('[data-delta="-1"]').disabled = !open || v - c.step < c.min;
          li.querySelector('[data-delta="1"]').disabled = !open || v >= c.max || rest <= 0;
        });
        status.innerHTML = '月收入 ' + cfg.income + ' 元，' + (rest < 0 ? '超出 <b data-left>' + -rest : '还可分配 <b data-left>' + rest) + '</b> 元';
        status.classList.toggle('is-off', rest !== 0);
        $('.h5c-budget__go').disabled = !open || rest !== 0;
        return;
      }
      var m = month(cfg, st, st.week);
      var lines = m.drawn.slice(0, st.week).map(function (i, w) {
        var e = cfg.events[i];
        return ['第 ' + (w + 1) + ' 周：' + (e ? e.text + '，' + (e.amount < 0 ? '支出 ' : '收入 ') + yuan(Math.abs(e.amount)) : '平稳的一周，没有意外收支'), e ? (e.amount < 0 ? 'is-neg' : 'is-pos') : ''];
      });
      status.textContent = st.step === 'report' ? '这个月结束了，得分 ' + m.score : st.week ? lines[st.week - 1][0] : '预算已定，点「下一周」开始过日子';
      $('[data-week]').textContent = st.week;
      cfg.cats.forEach(function (c) {
        var b = $('[data-bal="' + c.id + '"] b');
        b.textContent = yuan(m.bal[c.id]);
        b.classList.toggle('is-neg', m.bal[c.id] < 0);
      });
      var log = $('.h5c-budget__log');
      log.textContent = '';
      lines.forEach(function (l) {
        var li = d.createElement('li');
        li.textContent = l[0];
        li.className = l[1];
        log.appendChild(li);
      });
      $('.h5c-budget__next').disabled = !open || st.week >= cfg.weeks;
      $('.h5c-budget__next').textContent = st.week + 1 >= cfg.weeks ? '最后一周，看月底报告' : '下一周';
      if (st.step === 'report') {
        var b2 = band(m.score), parts = $('.h5c-budget__parts');
        $('[data-score]').textContent = m.score;
        $('[data-band]').textContent = b2.title;
        $('[data-advice]').textContent = b2.text ? '：' + b2.text : '';
        parts.textContent = '';
        m.parts.forEach(function (p) {
          var li = d.createElement('li');
          li.innerHTML = '<span></span><b></b><small></small>';
          li.children[0].textContent = p[0];
          li.children[1].textContent = Math.round(p[1]) + ' / ' + p[2];
          li.children[2].textContent = p[3];
          parts.appendChild(li);
        });
        parts.insertAdjacentHTML('beforeend', '<li></li>');
        parts.lastChild.textContent = m.overspent ? '本月超支 ' + yuan(m.overspent) + (m.debt ? '，储蓄不够，刷卡 ' + yuan(m.debt) : '，全部由储蓄垫付') : '本月没有超支';
        if (st.points) parts.insertAdjacentHTML('beforeend', '<li class="is-pos">完成挑战，获得 ' + st.points + ' 积分</li>');
        $('.h5c-budget__again').disabled = !open;
      }
    }

    root.addEventListener('input', function (e) {
      var c = cfg.cats.filter(function (k) { return 'budget-' + id + '-' + k.id === e.target.id; })[0];
      if (!c || st.step !== 'plan') return;
      st.alloc[c.id] = +e.target.value;
      save();
      paint();
    });
    root.addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b || b.disabled) return;
      if (b.hasAttribute('data-delta')) {
        var c = cfg.cats.filter(function (k) { return k.id === b.closest('[data-cat]').getAttribute('data-cat'); })[0];
        var up = +b.getAttribute('data-delta') > 0, rest = left();
        st.alloc[c.id] = Math.min(c.max, Math.max(c.min, st.alloc[c.id] + (up ? Math.min(c.step, rest) : -c.step)));
      } else if (b.classList.contains('h5c-budget__go')) {
        st.step = 'play';
        st.week = 0;
        st.seed = ((cfg.seed != null ? cfg.seed : hash(h.day() + ':' + id)) + st.round) >>> 0;
        h.emit('budget.start', id, { allocation: st.alloc, seed: st.seed, round: st.round });
      } else if (b.classList.contains('h5c-budget__next')) {
        st.week++;
        var i = draws(cfg, st.seed)[st.week - 1], ev = cfg.events[i];
        h.emit('budget.week', id, { week: st.week, event: ev ? ev.text : null, category: ev ? ev.category : null, amount: ev ? ev.amount : 0 });
        if (st.week >= cfg.weeks) {
          var m = month(cfg, st, st.week);
          st.step = 'report';
          if (!st.awarded) {
            st.awarded = true;
            st.points = h.award(cfg.action, id, cfg.points);
          }
          h.emit('budget.complete', id, { score: m.score, savings: m.save, debt: m.debt, repaid: m.paid, band: band(m.score).title, seed: st.seed });
          h.emit('completion', id, { kind: 'budget' });
        }
      } else if (b.classList.contains('h5c-budget__again')) {
        var alloc = st.alloc;
        st = fresh(st.round + 1);
        st.alloc = alloc;
        h.emit('budget.restart', id, { round: st.round });
      }
      save();
      paint();
      if (b.disabled || b.closest('[hidden]')) (root.querySelector('[data-panel]:not([hidden]) button:not([disabled])') || status).focus();
    });
    paint();
    root.setAttribute('data-h5-ready', '');
  });
  h.register('budget', function (root) {
    var st = h.get('budget:' + root.getAttribute('data-id'), null) || { step: 'plan' };
    var live = root.querySelectorAll('[data-panel]:not([hidden]) button:not([disabled]), [data-panel]:not([hidden]) input:not([disabled])').length;
    return h.window === 'open' && !live ? ['no control can be used in the ' + st.step + ' step'] : [];
  });
})(document);

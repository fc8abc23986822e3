/* puzzle: shuffle an image into tiles and put it back, by swapping two tiles or sliding into the
   empty cell; arrangement, moves and time survive reload; points once, on completion. */
(function (d) {
  'use strict';
  var h = window.h5press;
  function rng(seed) { /* mulberry32: the same seed gives every visitor the same shuffle */
    return function () {
      seed = seed + 0x6D2B79F5 | 0;
      var t = Math.imul(seed ^ seed >>> 15, 1 | seed);
      t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
      return ((t ^ t >>> 14) >>> 0) / 4294967296;
    };
  }
  function solved(order) { return order.every(function (p, i) { return p === i; }); }
  function swap(a, i, j) { var t = a[i]; a[i] = a[j]; a[j] = t; }
  function shuffle(n, slide, rand) {
    var N = n * n, a, i, j, inv, e;
    do {
      a = [];
      for (i = 0; i < N; i++) a.push(i);
      for (i = N - 1; i > 0; i--) swap(a, i, Math.floor(rand() * (i + 1)));
      if (slide) {
        /* Every slide swaps the empty cell with a neighbour: it flips the permutation's parity and
           the empty cell's distance from its home corner together, so solvable means both agree. */
        for (inv = 0, i = 0; i < N; i++) for (j = i + 1; j < N; j++) if (a[i] > a[j]) inv++;
        e = a.indexOf(N - 1);
        if ((inv + 2 * n - 2 - e % n - (e / n | 0)) % 2) swap(a, a.indexOf(0), a.indexOf(1));
      }
    } while (solved(a));
    return a;
  }
  function clock(ms) { var s = Math.round(ms / 1000); return Math.floor(s / 60) + ':' + ('0' + s % 60).slice(-2); }

  [].forEach.call(d.querySelectorAll('[data-h5c="puzzle"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var n = cfg.grid, N = n * n, slide = cfg.mode === 'slide';
    var key = 'puzzle:' + id;
    var st = h.get(key, {});
    if (st.order && st.order.length !== N) st.order = null; /* the grid changed since */
    var img = root.querySelector('img');
    var wrap = root.querySelector('.h5c-puzzle__tiles');
    var tiles = wrap.querySelectorAll('button');
    var go = root.querySelector('.h5c-puzzle__go');
    var status = root.querySelector('.h5c-puzzle__status');
    var timeEl = root.querySelector('[data-time]');
    var open = h.window === 'open';
    var since = Date.now(), picked = -1;
    var STEP = { ArrowUp: -n, ArrowDown: n, ArrowLeft: -1, ArrowRight: 1 };
    wrap.style.gridTemplateColumns = wrap.style.gridTemplateRows = 'repeat(' + n + ',1fr)';

    function playing() { return !!st.order && !st.done; }
    function elapsed() { return (st.ms || 0) + (playing() ? Date.now() - since : 0); }
    function save() {
      st.ms = elapsed();
      since = Date.now();
      h.set(key, st);
    }
    function near(a, b) { return Math.abs(a - b) === n || (Math.abs(a - b) === 1 && (a / n | 0) === (b / n | 0)); }
    function say(text) { status.textContent = text; }
    function doneText() {
      return cfg.message + '用了 ' + st.moves + ' 步，用时 ' + clock(st.ms) + (st.got ? '，获得 ' + st.got + ' 积分' : '');
    }
    function paint() {
      var on = playing(), url = img ? img.currentSrc || img.src : '';
      wrap.hidden = !on;
      root.classList.toggle('is-playing', on);
      root.classList.toggle('is-done', !!st.done);
      [].forEach.call(tiles, function (b, i) {
        var p = on ? st.order[i] : i, empty = slide && p === N - 1, s = b.style;
        b.disabled = !on || !open;
        b.classList.toggle('is-empty', empty);
        b.setAttribute('data-piece', p);
        s.backgroundImage = empty ? 'none' : 'url("' + url + '")';
        s.backgroundSize = n * 100 + '% ' + n * 100 + '%';
        s.backgroundPosition = p % n * 100 / (n - 1) + '% ' + (p / n | 0) * 100 / (n - 1) + '%';
        b.setAttribute('aria-label', (empty ? '空位' : '第 ' + (p + 1) + ' 块') + '，第 ' + ((i / n | 0) + 1) + ' 行第 ' +
          (i % n + 1) + ' 列' + (p === i && !empty ? '，位置正确' : ''));
        if (!slide) b.setAttribute('aria-pressed', String(i === picked));
      });
      root.querySelector('[data-moves]').textContent = st.moves || 0;
      if (timeEl) timeEl.textContent = clock(elapsed());
      go.disabled = !open;
      go.textContent = st.done ? '再玩一次' : on ? '重新打乱' : cfg.button;
    }
    function start(ev) {
      st.round = (st.round || 0) + 1;
      st.order = shuffle(n, slide, cfg.seed == null ? Math.random : rng(cfg.seed + st.round - 1));
      st.moves = st.ms = 0;
      st.done = false;
      since = Date.now();
      picked = -1;
      h.emit('puzzle.start', id, { grid: n, mode: cfg.mode, round: st.round });
      save();
      paint();
      say(slide ? '已打乱：点空位旁边的图块，或用方向键移动' : '已打乱：点两块图块交换位置');
      if (!ev.detail) tiles[0].focus(); /* started from the keyboard: continue on the board */
    }
    function move(a, b) {
      swap(st.order, a, b);
      st.moves++;
      if (solved(st.order)) {
        st.ms = elapsed();
        st.done = true;
        st.got = 0;
        if (!st.won) {
          st.won = true;
          st.got = h.award(cfg.action, id, cfg.points);
        }
        h.emit('puzzle.complete', id, { moves: st.moves, ms: st.ms, grid: n, mode: cfg.mode });
        h.emit('completion', id, { kind: 'puzzle' });
        if (wrap.contains(d.activeElement)) go.focus();
        say(doneText());
      } else if (!slide) say('已交换第 ' + (a + 1) + ' 格和第 ' + (b + 1) + ' 格');
      save();
      paint();
    }
    root.addEventListener('click', function (ev) {
      var b = ev.target.closest('button');
      if (!b || b.disabled) return;
      if (b === go) return start(ev);
      var i = +b.getAttribute('data-pos'), e = st.order.indexOf(N - 1), p = picked;
      if (slide) {
        if (near(i, e)) move(i, e);
        else say('只能移动空位旁边的图块');
      } else if (p < 0 || p === i) {
        picked = p === i ? -1 : i;
        say(p === i ? '已取消选择' : '已选第 ' + (st.order[i] + 1) + ' 块，再点一块与它交换');
        paint();
      } else {
        picked = -1;
        move(p, i);
      }
    });
    wrap.addEventListener('keydown', function (ev) {
      var step = STEP[ev.key], at = +ev.target.getAttribute('data-pos'), e = playing() && st.order.indexOf(N - 1), to;
      if (!step || !playing() || !open) return;
      ev.preventDefault();
      if (slide) {
        if (near(e, e - step) && e - step >= 0 && e - step < N) move(e - step, e); /* the tile beside the gap moves into it */
      } else if (near(at, to = at + step) && to >= 0 && to < N) tiles[to].focus();
    });
    if (img) img.addEventListener('load', paint); /* the variant the browser chose, for the tiles too */
    window.addEventListener('pagehide', function () { if (playing()) save(); });
    if (timeEl) setInterval(function () { if (playing()) timeEl.textContent = clock(elapsed()); }, 1000);
    paint();
    if (st.done) say(doneText());
    root.setAttribute('data-h5-ready', '');
  });
  h.register('puzzle', function (el) {
    var cfg = JSON.parse(el.getAttribute('data-config')), img = el.querySelector('img'), out = [];
    if (el.querySelectorAll('.h5c-puzzle__tile').length !== cfg.grid * cfg.grid) out.push('wrong number of tiles');
    if (!img || /^h5img:/.test(img.getAttribute('src'))) out.push('the picture is missing');
    if (h.window === 'open' && el.querySelector('.h5c-puzzle__go').disabled) out.push('cannot be started');
    return out;
  });
})(document);

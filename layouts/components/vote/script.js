/* vote: choose, vote once; the vote is an outbox event; with a server, live tallies once voted. */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="vote"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var key = 'vote:' + id;
    var picked = [];
    var go = root.querySelector('.h5c-vote__go');
    var state = root.querySelector('.h5c-vote__state');
    var live = null;
    var queued = false;
    var asked = 0; /* tally reads sent: an older answer (read before the vote was stored) never overwrites a newer one */
    function waiting() { return h.get('outbox', []).some(function (e) { return e.type === 'vote' && e.component === id; }); }
    function show(data) {
      var counts = data.counts.slice(), voters = data.total, mine = h.get(key, null);
      queued = !!mine && waiting();
      if (queued) {
        mine.choices.forEach(function (c) { counts[c - 1]++; }); /* not sent yet: count it here until the server has it */
        voters++;
      }
      var total = counts.reduce(function (a, b) { return a + b; }, 0) || 1;
      [].forEach.call(root.querySelectorAll('[data-option]'), function (b, i) {
        b.querySelector('[data-share]').textContent = Math.round(100 * (counts[i] || 0) / total) + '%';
      });
      state.textContent = '已投票 · 共 ' + voters + ' 人参与';
    }
    function tallies() {
      var n = ++asked;
      h.api('GET', '/votes/' + id).then(function (data) { if (n === asked) show(data); },
        function (e) { /* offline: the tallies last read where the phone kept them, and the visitor's own vote */
          if (n === asked && e.body && e.body.counts) show(e.body);
        });
    }
    function follow() {
      if (live || !h.server) return;
      tallies();
      live = h.live('vote', function (data) {
        if (!data) tallies();
        else if (data.id === id) show(data);
      });
    }
    function paint() {
      var mine = h.get(key, null);
      var chosen = mine ? mine.choices : picked;
      [].forEach.call(root.querySelectorAll('[data-option]'), function (b) {
        b.setAttribute('aria-pressed', String(chosen.indexOf(+b.getAttribute('data-option')) >= 0));
        b.disabled = !!mine || h.window !== 'open';
      });
      go.disabled = !!mine || !picked.length || h.window !== 'open';
      if (!live) state.textContent = mine ? '已投票' + (h.server ? '' : '，感谢参与') : '\u00a0';
      if (mine) follow();
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b || b.disabled) return;
      if (b === go) {
        h.set(key, { choices: picked.slice(), at: new Date().toISOString() });
        h.emit('vote', id, { choices: picked.slice() });
        queued = true; /* once it has left the outbox, the tally is read again: a read sent meanwhile may predate it */
        if (cfg.action) h.award(cfg.action, id, cfg.points);
      } else {
        var n = +b.getAttribute('data-option');
        var at = picked.indexOf(n);
        if (!cfg.multiple) picked = [n];
        else if (at >= 0) picked.splice(at, 1);
        else if (!cfg.max || picked.length < cfg.max) picked.push(n);
      }
      paint();
    });
    h.register('vote', function (el) {
      return h.window === 'open' && !h.get('vote:' + el.getAttribute('data-id'), null) &&
        !el.querySelectorAll('[data-option]:not([disabled])').length ? ['no option can be chosen'] : [];
    });
    h.on(function () { /* the vote has left the outbox: the server's count now holds it */
      if (queued && !waiting()) { queued = false; tallies(); }
    });
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

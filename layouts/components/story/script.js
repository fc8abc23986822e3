/* story: one scene at a time; the path taken (and so the coverage it added) survives reload;
   every choice and every ending reached is an outbox event; points for the first ending only. */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="story"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var key = 'story:' + id;
    var st = h.get(key, {});
    var step = root.querySelector('[data-step]');
    var restart = root.querySelector('[data-restart]');
    var open = h.window === 'open';

    /* A saved path that no longer fits the story (it was edited since) starts again. */
    function fits(path, picks) {
      if (!path || !picks || path[0] !== cfg.start || path.length !== picks.length + 1) return false;
      for (var i = 0; i < picks.length; i++) {
        if (!cfg.next[path[i]] || cfg.next[path[i]][picks[i] - 1] !== path[i + 1]) return false;
      }
      return true;
    }
    if (!fits(st.path, st.picks)) { st.path = [cfg.start]; st.picks = []; }
    function here() { return st.path[st.path.length - 1]; }
    function scene(sid) { return root.querySelector('[data-scene="' + sid + '"]'); }
    function coverage() {
      var cov = {};
      st.picks.forEach(function (n, i) {
        var add = cfg.adds[st.path[i]][n - 1];
        Object.keys(add).forEach(function (k) { cov[k] = add[k] === true || (cov[k] || 0) + add[k]; });
      });
      return cov;
    }
    /* The ending's summary: what the family has, and the gaps (with their advice). */
    function summarize(el, cov) {
      var gaps = [];
      [].forEach.call(el.querySelectorAll('[data-cov]'), function (li) {
        var k = li.getAttribute('data-cov'), unit = li.getAttribute('data-unit'), need = +li.getAttribute('data-need');
        var v = cov[k], gap = !v || v < need;
        li.querySelector('[data-has]').textContent = (v ? (unit ? '已有 ' + v + ' ' + unit : '已配置') : '未配置') +
          (v && gap ? '，参考 ' + need + ' ' + unit : '');
        li.className = gap ? 'is-gap' : 'is-has';
        if (gap) gaps.push(k);
      });
      var tally = el.querySelector('[data-tally]');
      if (tally) tally.textContent = gaps.length ? '已有 ' + (cfg.coverage.length - gaps.length) + ' 项保障，' + gaps.length + ' 项缺口值得了解：' : '各项保障都已考虑到：';
      return gaps;
    }
    function paint(said) {
      var now = here(), ending = !cfg.next[now];
      [].forEach.call(root.querySelectorAll('[data-scene]'), function (el) {
        el.hidden = el.getAttribute('data-scene') !== now;
        var note = el.querySelector('.h5c-story__note');
        note.hidden = !(said && !el.hidden);
        if (!note.hidden) note.textContent = said;
      });
      [].forEach.call(root.querySelectorAll('[data-choice]'), function (a) {
        if (!open) a.setAttribute('aria-disabled', 'true');
      });
      step.textContent = '第 ' + st.path.length + ' 幕' + (ending ? ' · 结局' : '');
      restart.disabled = !open || st.path.length < 2;
      if (ending) summarize(scene(now), coverage());
    }
    function save() { h.set(key, st); }

    root.addEventListener('click', function (e) {
      var a = e.target.closest('[data-choice]');
      if (a) {
        e.preventDefault();
        var from = a.closest('[data-scene]').getAttribute('data-scene');
        if (!open || from !== here()) return;
        var n = +a.getAttribute('data-choice'), to = cfg.next[from][n - 1];
        st.path.push(to);
        st.picks.push(n);
        h.emit('story.choice', id, { scene: from, choice: n, next: to });
        var note = a.getAttribute('data-note'), said = '你的选择：' + a.textContent + (note ? '。' + note : '');
        if (!cfg.next[to]) {
          var cov = coverage();
          h.emit('story.end', id, { ending: to, coverage: cov, gaps: summarize(scene(to), cov) });
          if (!st.done) {
            st.done = true;
            st.points = h.award(cfg.action, id, cfg.points);
            h.emit('completion', id, { kind: 'story' });
            if (st.points) said += '（获得 ' + st.points + ' 积分）';
          }
        }
        save();
        paint(said);
        scene(to).querySelector('h3').focus();
      } else if (e.target === restart && open) {
        h.emit('story.restart', id, { from: here() });
        st.path = [cfg.start];
        st.picks = [];
        save();
        paint('');
        scene(cfg.start).querySelector('h3').focus();
      }
    });
    paint('');
    root.setAttribute('data-h5-ready', '');
  });
  h.register('story', function (root) {
    var shown = root.querySelectorAll('[data-scene]:not([hidden])');
    if (shown.length !== 1) return ['shows ' + shown.length + ' scenes instead of 1'];
    var choices = shown[0].querySelectorAll('[data-choice]').length;
    return !choices && !shown[0].querySelector('.h5c-story__ending') ? ['the scene shown has no choices and no ending'] : [];
  });
})(document);

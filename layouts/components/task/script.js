/* task: team tasks. The visitor's progress from the device at once (offline too); with a server
   and a team, every member's progress from the team object, live; a bar for the whole team.
   `reached`: an action counted once when the visitor scrolls to the block (end of an article). */
(function (d, w) {
  'use strict';
  var h = w.h5press;
  var server = !!(h.server && h.api);
  function count(actions, a) { var v = (actions || {})[a]; return typeof v === 'number' ? v : (v && v.count) || 0; }
  h.register('task', function (el) {
    var bar = el.querySelector('[data-bar]');
    return bar.value >= 0 && bar.value <= 100 && el.querySelector('[data-pct]').textContent === bar.value + '%' ? [] : ['the bar disagrees with the percentage'];
  });
  [].forEach.call(d.querySelectorAll('[data-h5c="task"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var rows = [].slice.call(root.querySelectorAll('[data-action]'));
    var teams = server && root.querySelector('[data-members]');
    var note = root.querySelector('[data-note]');
    var team = null, seen;

    function paint() {
      var me = server ? h.me() : null;
      var now = JSON.stringify(me ? me.team : null);
      if (me && now !== seen) { seen = now; team = me.team || null; }
      var mine = h.wallet().actions;
      var members = teams && team && Array.isArray(team.members) ? team.members : [];
      var size = members.length ? team.size || cfg.size : 1;
      var got = 0, need = 0;
      rows.forEach(function (li) {
        var a = li.getAttribute('data-action'), n = +li.getAttribute('data-count');
        var own = Math.max(count(mine, a), me ? count(me.actions, a) : 0);
        members.forEach(function (m) { if (m.me) own = Math.max(own, count(m.actions, a)); });
        li.classList.toggle('is-done', own >= n);
        li.querySelector('[data-state]').textContent = own >= n ? '已完成' : own + '/' + n;
        need += n * size;
        if (!members.length) { got += Math.min(own, n); return; }
        var box = li.querySelector('[data-members]');
        box.textContent = '';
        for (var i = 0; i < size; i++) {
          var m = members[i], have = m ? Math.min(m.me ? own : count(m.actions, a), n) : 0;
          var chip = d.createElement('span');
          got += have;
          chip.className = have >= n ? 'is-done' : m ? '' : 'is-empty';
          chip.textContent = m ? (have >= n ? '✓ ' : '') + (m.me ? '我' : m.nickname || '队员 ' + (i + 1)) + ' ' + have + '/' + n : '空位';
          box.appendChild(chip);
        }
      });
      var pct = need ? Math.round(100 * got / need) : 0;
      root.querySelector('[data-scope]').textContent = members.length ? '团队完成度' : '我的完成度';
      root.querySelector('[data-pct]').textContent = pct + '%';
      root.querySelector('[data-bar]').value = pct;
      if (teams && !members.length) {
        rows.forEach(function (li) { li.querySelector('[data-members]').textContent = '组队后这里显示每位队友的进度'; });
      }
    }

    if (cfg.reached) {
      var key = 'task:' + id;
      var reach = function () {
        if (h.get(key, null)) return;
        var points = h.award(cfg.reached, id);
        if (points > 0) {
          h.set(key, { reached: new Date().toISOString() });
          h.emit('task.reached', id, { action: cfg.reached, points: points });
          note.textContent = '读完了，+' + points + ' 积分！';
        } else if (h.window === 'open') note.textContent = '今天这项的积分已到上限，明天读完还能再得。';
      };
      if (h.get(key, null)) note.textContent = '本文已读完，积分已记上。';
      else if (w.IntersectionObserver) {
        var seer = new IntersectionObserver(function (entries) {
          if (entries[0].isIntersecting) { seer.disconnect(); reach(); }
        }, { threshold: 0.4 });
        seer.observe(root);
      } else reach();
    }
    h.on(paint);
    if (teams) h.live('team', function (t) { if (t) { team = t; paint(); } else if (h.me()) h.refresh().then(paint, function () {}); });
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document, window);

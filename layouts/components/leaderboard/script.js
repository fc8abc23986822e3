/* leaderboard: the server's ranking, re-read on live events (at most once a second), the caller's row
   always shown; offline, the last board read with its time; without a server, only one's own points. */
(function (w, d) {
  'use strict';
  var h = w.h5press;
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function when(ms) {
    var t = new Date(ms);
    return (t.toDateString() === new Date().toDateString() ? '' : (t.getMonth() + 1) + '月' + t.getDate() + '日 ') + pad(t.getHours()) + ':' + pad(t.getMinutes());
  }
  [].forEach.call(d.querySelectorAll('[data-h5c="leaderboard"]'), function (root) {
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var key = 'leaderboard:' + root.getAttribute('data-id');
    if (!h.server) {
      var total = root.querySelector('[data-total]');
      var own = function () { total.textContent = h.wallet().total; };
      h.on(own);
      own();
      root.setAttribute('data-h5-ready', '');
      return;
    }
    var note = root.querySelector('[data-note]');
    var rows = root.querySelectorAll('li');
    var mine = root.querySelector('[data-me]');
    var tabs = root.querySelectorAll('[data-scope],[data-period]');
    var saved = h.get(key, {});
    var boards = saved.boards || {};
    var pick = {
      scope: cfg.scope.indexOf(saved.scope) >= 0 ? saved.scope : cfg.scope[0],
      period: cfg.period.indexOf(saved.period) >= 0 ? saved.period : cfg.period[0]
    };
    function board() { return pick.scope + '/' + pick.period; }
    function save() { h.set(key, { scope: pick.scope, period: pick.period, boards: boards }); }
    function name(e) { return e.name || e.nickname || '用户' + String(e.who).slice(0, 4).toUpperCase(); }
    function fill(row, rank, text, points) {
      row.children[0].textContent = rank;
      row.children[1].textContent = text;
      row.children[2].textContent = points;
    }
    function paint(message) {
      var got = boards[board()];
      var data = got && got.data;
      var me = data && data.me;
      var team = pick.scope === 'team';
      var tag = team ? '（我的队伍）' : '（我）';
      [].forEach.call(tabs, function (b) {
        var k = b.hasAttribute('data-scope') ? 'scope' : 'period';
        b.setAttribute('aria-pressed', String(b.getAttribute('data-' + k) === pick[k]));
        b.disabled = false;
      });
      [].forEach.call(rows, function (row, i) {
        var e = data && data.entries[i];
        var self = !!(e && me && (team ? e.team === me.team : e.who === me.who));
        row.className = 'h5c-board__row' + (e ? '' : ' is-vacant') + (self ? ' is-me' : '');
        row.hidden = !!data && i > data.entries.length; /* one 虚位以待 row, not a column of them */
        fill(row, e ? e.rank : i + 1, e ? name(e) + (self ? tag : '') : data ? '虚位以待' : '—', e ? e.points + ' 分' : '');
      });
      var inTeam = (h.me() || {}).team;
      fill(mine, me ? me.rank : '—', me ? name(me) + tag
        : !data ? '我' : !h.consented() ? '同意个人信息保护提示后显示我的排名' : team && !inTeam ? '还没有加入队伍'
          : team ? '我的队伍还没有积分' : '我还没有上榜：获得积分后出现', me ? me.points + ' 分' : '');
      note.textContent = message;
    }
    var last = 0, timer = 0, busy = false, again = false;
    function read() {
      var wait = last + 1000 - Date.now();
      if (busy) again = true;
      else if (wait > 0) timer = timer || setTimeout(function () { timer = 0; read(); }, wait);
      if (busy || wait > 0) return;
      busy = true;
      last = Date.now();
      var want = board();
      var what = want.split('/');
      h.api('GET', '/leaderboard?scope=' + what[0] + '&period=' + what[1] + '&limit=' + cfg.limit).then(function (data) {
        boards[want] = { at: Date.now(), data: data };
        save();
        return (what[1] === 'week' ? '本周积分从周一 0 点起计 · ' : '') + '实时更新，' + when(Date.now()) + ' 最新';
      }, function (e) {
        var got = boards[want];
        var shown = got ? '显示的是 ' + when(got.at) + ' 的排名' : '';
        if (e.status === 401) return '同意页面上的个人信息保护提示后，即可查看好友榜。';
        if (e.status === 0 || e.code === 'offline') return '离线，' + (shown || '联网后显示排名');
        setTimeout(read, 15000);
        return '排名暂时读取失败' + (shown ? '，' + shown : '') + '，稍后自动重试。';
      }).then(function (message) {
        busy = false;
        if (want === board()) paint(message);
        if (again) {
          again = false;
          read();
        }
      });
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('[data-scope],[data-period]');
      if (!b || b.disabled) return;
      var k = b.hasAttribute('data-scope') ? 'scope' : 'period';
      pick[k] = b.getAttribute('data-' + k);
      save();
      paint('正在读取排名…');
      read();
    });
    paint(boards[board()] ? '正在更新排名…' : '正在读取排名…');
    read();
    h.live('leaderboard', read);
    h.on(read);
    w.addEventListener('online', read);
    root.setAttribute('data-h5-ready', '');
  });
  h.register('leaderboard', function (el) {
    return [].some.call(el.querySelectorAll('[data-scope],[data-period]'), function (b) { return b.disabled; })
      ? ['a tab is still disabled'] : !h.server && el.querySelector('[data-total]').textContent !== String(h.wallet().total)
        ? ['own points not shown'] : [];
  });
})(window, document);

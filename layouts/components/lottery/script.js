/* lottery: the draw happens only on the collaboration server (POST …/draw); the wheel then stops on,
   or the red packet opens to, the server's result. Without a server nothing is ever drawn here. */
(function (w, d) {
  'use strict';
  var h = w.h5press;
  var still = w.matchMedia && w.matchMedia('(prefers-reduced-motion: reduce)').matches;
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function when(iso) {
    var t = new Date(iso);
    return (t.toDateString() === new Date().toDateString() ? '' : (t.getMonth() + 1) + '月' + t.getDate() + '日 ') + pad(t.getHours()) + ':' + pad(t.getMinutes());
  }
  [].forEach.call(d.querySelectorAll('[data-h5c="lottery"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var key = 'lottery:' + id;
    var path = '/lottery/' + cfg.lottery;
    var go = root.querySelector('[data-draw]');
    var status = root.querySelector('[data-status]');
    var turn = root.querySelector('[data-turn]');
    var packet = root.querySelector('[data-packet]');
    var angle = 0, busy = false, gone = false, known = null;
    function say(text) { status.textContent = text; }
    function paint() {
      var me = h.server && h.me();
      var b = !h.server ? h.wallet().total : known != null ? known : me ? me.balance : null;
      root.querySelector('[data-balance]').textContent = b == null ? '—' : b;
      go.disabled = !h.server || busy || gone || h.window !== 'open';
    }
    function info() {
      h.api('GET', path).then(function (lot) {
        var left = 0, limited = true, rules = root.querySelector('[data-rules]');
        var lines = lot.rules.split('\n').filter(function (line) { return line.trim(); });
        if (lines.join('\n') !== [].map.call(rules.children, function (p) { return p.textContent; }).join('\n')) {
          rules.textContent = ''; /* the server's campaign.yaml is newer than this page */
          lines.forEach(function (line) { rules.appendChild(d.createElement('p')).textContent = line; });
        }
        lot.prizes.forEach(function (p) {
          var cell = root.querySelector('[data-left="' + p.index + '"]');
          root.querySelector('[data-odds="' + p.index + '"]').textContent = Math.round(p.probability * 1e6) / 1e4 + '%';
          if (p.stock == null) limited = false;
          else left += p.remaining;
          if (cell && p.stock != null) cell.textContent = p.remaining > 0 ? '剩余 ' + p.remaining + ' / ' + p.stock + ' 份' : '已抽完';
        });
        gone = limited && !left;
        if (gone) go.textContent = '奖品已全部抽完';
        paint();
      }, function () { /* offline: the odds published at build time stay shown */ });
    }
    function problem(e) {
      var c = e.code, me = h.me();
      return c === 'consent' ? '请先同意页面上的个人信息保护提示，再参加抽奖。'
        : c === 'no_api' ? '抽奖由活动服务器开奖：本页面没有连接活动服务器。'
        : e.status === 0 ? '网络不可用：抽奖由活动服务器开奖，需要联网。请联网后再试一次。'
        : c === 'insufficient_points' ? '积分不足：每次抽奖需要 ' + cfg.cost + ' 积分' + (me ? '，您当前可用 ' + me.balance + ' 积分' : '') + '。'
        : c === 'daily_limit' ? '今天的抽奖次数已用完' + (cfg.per_day ? '（每天 ' + cfg.per_day + ' 次）' : '') + '，明天再来吧。'
        : c === 'rate_limited' ? '操作太频繁，请稍等几秒再试。'
        : c === 'campaign_closed' ? '活动不在进行中，现在不能抽奖。'
        : '这次没有抽成（' + (e.message || e.status) + '），请稍后再试。';
    }
    function land(prize, done) {
      var k = prize ? prize.index : cfg.none;
      if (turn && k >= 0) {
        angle += 1800 + ((-k * 360 / cfg.n - angle) % 360 + 360) % 360;
        turn.style.transform = 'rotate(' + angle + 'deg)';
      }
      if (packet) {
        packet.querySelector('[data-prize]').textContent = prize ? prize.name : '谢谢参与';
        packet.classList.add('is-open');
      }
      setTimeout(done, still ? 0 : turn ? 4200 : 700);
    }
    go.addEventListener('click', function () {
      if (go.disabled) return;
      busy = true;
      paint();
      say('正在开奖…');
      if (packet) packet.classList.remove('is-open');
      h.api('POST', path + '/draw').then(function (r) {
        known = r.balance;
        h.set(key, { prize: r.prize, at: new Date().toISOString() });
        h.emit('lottery.draw', id, { lottery: cfg.lottery, prize: r.prize ? r.prize.index : null });
        paint();
        land(r.prize, function () {
          busy = false;
          say(r.prize ? '恭喜，抽中「' + r.prize.name + '」！' : '很遗憾，这次没有抽中，谢谢参与。');
          paint();
          info();
          h.refresh().then(function () { known = null; paint(); }, function () { /* the draw's balance stays shown */ });
        });
      }, function (e) {
        busy = false;
        say(problem(e));
        paint();
      });
    });
    var last = h.get(key, null);
    if (last) say('上次抽奖（' + when(last.at) + '）：' + (last.prize ? '抽中「' + last.prize.name + '」' : '未中奖'));
    h.on(paint);
    paint();
    if (h.server) info();
    root.setAttribute('data-h5-ready', '');
  });
  h.register('lottery', function (el) {
    return (el.querySelector('tbody tr') ? [] : ['no odds are published']).concat(
      !h.server && !el.querySelector('[data-draw]').disabled ? ['the draw button is on without a server'] : []);
  });
})(window, document);

/* reward: unlock by points, claim. Without a server the claim is kept on the device and sent as an
   event; with one, the server decides (POST …/rewards/<id>/claim: stock, per-person limit, threshold). */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="reward"]'), function (root) {
    var said = {}, oops = {}, busy = {}, gone = {};
    function paint() {
      var total = h.wallet().total;
      var claimed = h.get('rewards', {});
      var team = h.server && (h.me() || {}).team;
      var unlocked = team && team.unlocked && team.unlocked.reached ? team.unlocked.reward : null;
      [].forEach.call(root.querySelectorAll('[data-reward]'), function (li) {
        var id = li.getAttribute('data-reward');
        var need = +li.getAttribute('data-threshold');
        var scope = li.getAttribute('data-scope') === 'team';
        var have = scope ? team && team.points : total;
        var open = id === unlocked || (scope ? h.server && !!team && have >= need : total >= need);
        var state = oops[id] || said[id] || (claimed[id] ? '已领取' : open ? '已解锁，可领取'
          : !scope ? '还差 ' + (need - total) + ' 积分'
          : !h.server ? '团队奖励：组队积分达标后由活动方发放'
          : team ? '团队积分还差 ' + (need - have) + ' 分' : '团队奖励：加入队伍后，团队积分达标即可领取');
        li.querySelector('[data-state]').textContent = state;
        li.querySelector('button').disabled = !open || !!claimed[id] || !!busy[id] || !!gone[id] || h.window !== 'open';
      });
    }
    function done(id, text, final) {
      var claimed = h.get('rewards', {});
      if (final) claimed[id] = new Date().toISOString();
      h.set('rewards', claimed);
      said[id] = text;
    }
    function problem(li, e) {
      var c = e.code;
      return c === 'consent' ? '请先同意页面上的个人信息保护提示，再领取奖励。'
        : e.status === 0 ? '网络不可用：领取需要联网，请联网后重试。'
        : c === 'below_threshold' ? '活动服务器记录的积分还未达到 ' + li.getAttribute('data-threshold') + ' 分（刚获得的积分可能还在同步），稍后再试。'
        : c === 'no_team' ? '这是团队奖励：请先加入或创建队伍。'
        : c === 'campaign_closed' ? '活动不在进行中，现在不能领取。'
        : c === 'rate_limited' ? '操作太频繁，请稍等几秒再试。'
        : '领取没有成功（' + (e.message || e.status) + '），请稍后重试。';
    }
    function claimed(payload) { /* the server's record of the claim, and the analytics event */
      h.emit('reward.claim', 'rewards', payload);
      h.emit('claim', 'rewards', { kind: 'reward', reward: payload.reward });
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b || b.disabled) return;
      var li = b.closest('[data-reward]');
      var id = li.getAttribute('data-reward');
      var points = h.wallet().total;
      if (!h.server) {
        done(id, '', true);
        claimed({ reward: id, points: points });
        return paint();
      }
      busy[id] = true;
      oops[id] = '正在领取…';
      paint();
      h.api('POST', '/rewards/' + id + '/claim').then(function (r) {
        var left = r.remaining == null ? '' : '，剩余 ' + r.remaining + ' 份';
        done(id, '已领取' + (r.per_user > 1 ? ' ' + r.claimed + '/' + r.per_user + ' 次' : '') + left, r.claimed >= r.per_user);
        claimed({ reward: id, points: points, claimed: r.claimed });
      }, function (err) {
        if (err.code === 'limit_reached') done(id, '已领取过：每人限领 ' + li.getAttribute('data-per-user') + ' 次。', true);
        else if (err.code === 'out_of_stock') said[id] = gone[id] = '已领完：这份奖励已全部发放。';
        else oops[id] = problem(li, err);
      }).then(function () {
        if (oops[id] === '正在领取…') delete oops[id];
        busy[id] = false;
        paint();
      });
    });
    h.on(function () {
      for (var id in oops) if (!busy[id]) delete oops[id];
      paint();
    });
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

/* reward: unlock by points, claim once; the claim is kept on the device and sent as an event. */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="reward"]'), function (root) {
    function paint() {
      var total = h.wallet().total;
      var claimed = h.get('rewards', {});
      [].forEach.call(root.querySelectorAll('[data-reward]'), function (li) {
        var id = li.getAttribute('data-reward');
        var team = li.getAttribute('data-scope') === 'team';
        var open = !team && total >= +li.getAttribute('data-threshold');
        var state = claimed[id] ? '已领取' : team ? '团队奖励：组队积分达标后由活动方发放' : open ? '已解锁，可领取' : '还差 ' + (+li.getAttribute('data-threshold') - total) + ' 积分';
        li.querySelector('[data-state]').textContent = state;
        li.querySelector('button').disabled = !open || !!claimed[id] || h.window !== 'open';
      });
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b || b.disabled) return;
      var id = b.closest('[data-reward]').getAttribute('data-reward');
      var claimed = h.get('rewards', {});
      claimed[id] = new Date().toISOString();
      h.set('rewards', claimed);
      h.emit('reward.claim', 'rewards', { reward: id, points: h.wallet().total });
      paint();
    });
    h.on(paint);
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

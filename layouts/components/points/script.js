/* points: total, level and progress to the next level, repainted whenever points change. */
(function (d) {
  'use strict';
  var h = window.h5press;
  var levels = h.rules.levels || [];
  [].forEach.call(d.querySelectorAll('[data-h5c="points"]'), function (root) {
    function paint() {
      var total = h.wallet().total;
      var now = h.level(total);
      var next = levels.filter(function (l) { return l.min > total; })[0];
      root.querySelector('[data-total]').textContent = total;
      var level = root.querySelector('[data-level]');
      if (level && now) level.textContent = now.name;
      var bar = root.querySelector('[data-bar]');
      var hint = root.querySelector('[data-next]');
      if (bar) {
        var from = now ? now.min : 0;
        bar.value = next ? Math.round(100 * (total - from) / (next.min - from)) : 100;
        hint.textContent = next ? '再得 ' + (next.min - total) + ' 积分升为「' + next.name + '」' : '已是最高等级';
      }
    }
    h.on(paint);
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

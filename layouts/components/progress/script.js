/* progress: tasks done by the visitor's counted actions; repainted as points change. */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="progress"]'), function (root) {
    function paint() {
      var actions = h.wallet().actions;
      var done = 0;
      [].forEach.call(root.querySelectorAll('[data-action]'), function (li) {
        var need = +li.getAttribute('data-count');
        var have = Math.min(need, (actions[li.getAttribute('data-action')] || {}).count || 0);
        li.classList.toggle('is-done', have >= need);
        li.querySelector('[data-state]').textContent = have + '/' + need;
        if (have >= need) done++;
      });
      root.querySelector('[data-done]').textContent = done;
      root.querySelector('[data-bar]').value = done;
    }
    h.on(paint);
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

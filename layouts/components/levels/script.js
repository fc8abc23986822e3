/* levels: marks the rungs reached and the current one, repainted whenever points change. */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="levels"]'), function (root) {
    function paint() {
      var total = h.wallet().total;
      var now = h.level(total);
      root.querySelector('[data-total]').textContent = total;
      if (now) root.querySelector('[data-level]').textContent = now.name;
      [].forEach.call(root.querySelectorAll('[data-min]'), function (rung) {
        var min = +rung.getAttribute('data-min');
        rung.toggleAttribute('data-reached', total >= min);
        if (now && min === now.min) rung.setAttribute('aria-current', 'step');
        else rung.removeAttribute('aria-current');
      });
    }
    h.on(paint);
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

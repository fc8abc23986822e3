/* badges: mark the badges the wallet has earned, live as points change. */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="badges"]'), function (root) {
    function paint() {
      var earned = h.wallet().badges;
      [].forEach.call(root.querySelectorAll('[data-badge]'), function (li) {
        var got = earned.indexOf(li.getAttribute('data-badge')) >= 0;
        li.classList.toggle('is-earned', got);
        li.querySelector('[data-state]').textContent = got ? '已获得' : '未获得';
      });
    }
    h.on(paint);
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

/* consent: remember the visitor's choice; the runtime sends nothing until it is "yes". */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="consent"]'), function (root) {
    var state = root.querySelector('.h5c-consent__state');
    function paint() {
      var choice = h.get('consent', null);
      state.textContent = choice === true ? '已同意，可随时更改' : choice === false ? '未同意：数据只保存在本机' : '\u00a0';
      [].forEach.call(root.querySelectorAll('[data-consent]'), function (b) {
        b.disabled = false;
        b.setAttribute('aria-pressed', String(choice === (b.getAttribute('data-consent') === 'yes')));
      });
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('[data-consent]');
      if (!b) return;
      var yes = b.getAttribute('data-consent') === 'yes';
      h.consent(yes);
      h.emit('consent', 'consent', { granted: yes });
      paint();
    });
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

/* survey: validate required fields, phone and e-mail; one submission, sent as an outbox event. */
(function (d) {
  'use strict';
  var h = window.h5press;
  var PATTERNS = { phone: /^1[3-9]\d{9}$/, email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/ };
  var MESSAGES = { required: '请填写此项', phone: '请输入 11 位手机号', email: '请输入有效的邮箱', max: '最多选择 ', sensitive: '提供这一项需要您单独同意' };
  [].forEach.call(d.querySelectorAll('[data-h5c="survey"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var form = root.querySelector('form');
    var state = root.querySelector('.h5c-survey__state');
    var key = 'survey:' + id;
    function value(field) {
      var inputs = field.querySelectorAll('input, textarea');
      var type = field.getAttribute('data-type');
      if (type === 'multi') return [].filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
      if (type === 'choice' || consent(field)) {
        var on = [].filter.call(inputs, function (i) { return i.checked; })[0];
        return on ? on.value : '';
      }
      return inputs[0].value.trim();
    }
    function consent(field) { return field.getAttribute('data-field').indexOf('__consent') === 0; }
    function guarded(field) {  /* a sensitive answer given: its separate consent is then required */
      var of = field.getAttribute('data-consent-for');
      var answer = of && root.querySelector('[data-field="' + of + '"]');
      return !!answer && value(answer).length > 0;
    }
    function problem(field, v) {
      var type = field.getAttribute('data-type');
      var max = +field.getAttribute('data-max');
      if (guarded(field) && !v) return MESSAGES.sensitive;
      if (field.hasAttribute('data-required') && (!v || !v.length)) return MESSAGES.required;
      if (v && PATTERNS[type] && !PATTERNS[type].test(v)) return MESSAGES[type];
      if (type === 'multi' && max && v.length > max) return MESSAGES.max + max + ' 项';
      return '';
    }
    function paint() {
      var done = h.get(key, null);
      [].forEach.call(form.elements, function (el) { el.disabled = !!done || h.window !== 'open'; });
      state.textContent = done ? '已提交，感谢参与' : '\u00a0';
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var answers = {}, first = null;
      [].forEach.call(root.querySelectorAll('[data-field]'), function (field) {
        var v = value(field), message = problem(field, v);
        var error = field.querySelector('[data-error]');
        error.textContent = message;
        [].forEach.call(field.querySelectorAll('input, textarea'), function (i) { i.setAttribute('aria-invalid', String(!!message)); });
        if (message && !first) first = field.querySelector('input, textarea');
        if (!consent(field)) answers[field.getAttribute('data-field')] = v;
      });
      if (first) { first.focus(); return; }
      h.set(key, { at: new Date().toISOString() });
      var separate = [].filter.call(root.querySelectorAll('[data-consent-for] input'), function (i) { return i.checked; })
        .map(function (i) { return i.closest('[data-consent-for]').getAttribute('data-consent-for'); });
      h.emit('survey.submit', id, { answers: answers, consent: !!root.querySelector('[name="__consent"]'), sensitive_consent: separate });
      if (cfg.action) h.award(cfg.action, id, cfg.points);
      paint();
    });
    paint();
    root.setAttribute('data-h5-ready', '');
  });
})(document);

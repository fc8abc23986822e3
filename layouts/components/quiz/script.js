/* quiz: answer by tapping; state survives reload; every answer is an outbox event; points once. */
(function (d) {
  'use strict';
  var h = window.h5press;
  [].forEach.call(d.querySelectorAll('[data-h5c="quiz"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var key = 'quiz:' + id;
    var st = h.get(key, { answers: [], done: false });
    var items = root.querySelectorAll('.h5c-quiz__q');
    var result = root.querySelector('.h5c-quiz__result');

    function total() {
      return st.answers.reduce(function (sum, n, i) { return sum + (cfg.scores ? cfg.scores[i][n - 1] : n === cfg.answers[i] ? 1 : 0); }, 0);
    }
    function band(score) {
      var found = null;
      (cfg.results || []).forEach(function (b) { if (score >= b.min && (!found || b.min >= found.min)) found = b; });
      return found;
    }
    function summary() {
      var score = total(), b = band(score);
      var text = cfg.results ? (b ? '测评结果：' + b.title + (b.text ? '。' + b.text : '') : '') : '答对 ' + score + ' / ' + items.length + ' 题';
      return text + (st.points ? '，获得 ' + st.points + ' 积分' : '');
    }
    function paint() {
      [].forEach.call(items, function (li, i) {
        var chosen = st.answers[i];
        [].forEach.call(li.querySelectorAll('button'), function (b) {
          var n = +b.getAttribute('data-option');
          b.disabled = chosen != null || h.window !== 'open';
          b.setAttribute('aria-pressed', String(chosen === n));
          if (cfg.answers && chosen != null) {
            b.classList.toggle('is-right', n === cfg.answers[i]);
            b.classList.toggle('is-wrong', n === chosen && n !== cfg.answers[i]);
          }
        });
        var ex = li.querySelector('.h5c-quiz__explain');
        if (ex) ex.hidden = chosen == null;
      });
      result.textContent = st.done ? summary() : '';
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('button[data-option]');
      if (!b || b.disabled) return;
      var i = +b.closest('.h5c-quiz__q').getAttribute('data-index');
      var n = +b.getAttribute('data-option');
      st.answers[i] = n;
      h.emit('quiz.answer', id, { question: i + 1, option: n, correct: cfg.answers ? n === cfg.answers[i] : null });
      var answered = st.answers.filter(function (x) { return x != null; }).length;
      if (answered === items.length && !st.done) {
        st.done = true;
        var score = total(), b2 = band(score);
        st.points = h.award(cfg.action, id, cfg.points);
        h.emit('quiz.complete', id, { score: score, of: items.length, band: b2 ? b2.title : null });
        h.emit('completion', id, { kind: 'quiz' });
      }
      h.set(key, st);
      paint();
    });
    paint();
    root.setAttribute('data-h5-ready', '');
  });
  h.register('quiz', function (root) {
    var st = h.get('quiz:' + root.getAttribute('data-id'), { done: false });
    var enabled = root.querySelectorAll('button[data-option]:not([disabled])').length;
    return h.window === 'open' && !st.done && !enabled ? ['no option can be chosen'] : [];
  });
})(document);

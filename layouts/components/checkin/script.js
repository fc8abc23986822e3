/* checkin: one check-in per local day, streak, carbon saved and a weekly report; works offline. */
(function (d) {
  'use strict';
  var h = window.h5press;
  function iso(t) { return new Date(t).toISOString().slice(0, 10); }
  function week(today) {
    var t = Date.parse(today + 'T00:00:00Z');
    var monday = t - ((new Date(t).getUTCDay() + 6) % 7) * 864e5;
    var out = [];
    for (var i = 0; i < 7; i++) out.push(iso(monday + i * 864e5));
    return out;
  }
  [].forEach.call(d.querySelectorAll('[data-h5c="checkin"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var go = root.querySelector('.h5c-checkin__go');
    var status = root.querySelector('.h5c-checkin__status');
    var pick = { mode: null, km: null };

    function modeOf(key) { return cfg.modes.filter(function (m) { return m.id === key; })[0]; }
    function paint() {
      var days = h.get('checkins', {});
      var today = h.day();
      var done = days[today];
      var open = h.window === 'open';
      root.querySelector('[data-streak]').textContent = h.streak();
      [].forEach.call(root.querySelectorAll('[data-mode],[data-km]'), function (b) {
        var key = b.hasAttribute('data-mode') ? 'mode' : 'km';
        var value = b.getAttribute('data-' + key);
        var chosen = done ? String(done[key]) : pick[key];
        b.setAttribute('aria-pressed', String(chosen === value));
        b.disabled = !!done || !open;
      });
      go.disabled = !!done || !open || (cfg.carbon && !(pick.mode && pick.km));
      status.textContent = done ? '今天已打卡' + (cfg.carbon ? '，减排约 ' + done.saved + ' 克' : '') : '\u00a0';
      if (cfg.carbon) {
        var count = 0, saved = 0;
        week(today).forEach(function (day, i) {
          var cell = root.querySelector('[data-weekday="' + i + '"]');
          var hit = days[day];
          cell.classList.toggle('is-done', !!hit);
          cell.querySelector('b').textContent = hit ? '✓' : '·';
          cell.querySelector('b').setAttribute('aria-label', hit ? '已打卡' : '未打卡');
          if (hit) { count++; saved += hit.saved || 0; }
        });
        root.querySelector('[data-week-days]').textContent = count;
        root.querySelector('[data-week-saved]').textContent = Math.round(saved);
      }
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b || b.disabled) return;
      if (b.hasAttribute('data-mode')) pick.mode = b.getAttribute('data-mode');
      else if (b.hasAttribute('data-km')) pick.km = b.getAttribute('data-km');
      else if (b === go) {
        var days = h.get('checkins', {});
        var entry = { at: new Date().toISOString() };
        if (cfg.carbon) {
          entry.mode = pick.mode;
          entry.km = pick.km;
          entry.saved = Math.max(0, Math.round((cfg.baseline - modeOf(pick.mode).grams_per_km) * parseFloat(pick.km)));
        }
        days[h.day()] = entry;
        h.set('checkins', days);
        h.emit('checkin', id, { day: h.day(), mode: entry.mode || null, km: entry.km ? parseFloat(entry.km) : null, saved_g: entry.saved || 0, streak: h.streak() });
        h.award(cfg.action, id, cfg.points);
      }
      paint();
    });
    h.on(paint);
    paint();
    root.setAttribute('data-h5-ready', '');
  });
  h.register('checkin', function (root) {
    var done = h.get('checkins', {})[h.day()];
    var choices = root.querySelectorAll('[data-mode]:not([disabled]),[data-km]:not([disabled])').length;
    var go = root.querySelector('.h5c-checkin__go');
    var carbon = JSON.parse(root.getAttribute('data-config')).carbon;
    if (h.window !== 'open' || done) return [];
    return (carbon ? !choices : go.disabled) ? ['check-in cannot be started'] : [];
  });
})(document);

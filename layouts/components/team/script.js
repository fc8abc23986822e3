/* team: create or join a team on the collaboration server (invite link ?team=CODE or the typed
   code), invite by Web Share or copy, members, team points towards the unlock, nickname; live
   through h5press.live('team'). Without a server it says so and lists what counts alone. */
(function (d, w) {
  'use strict';
  var h = w.h5press;
  var server = !!(h.server && h.api);
  var ERRORS = {
    team_full: '这支队伍已经满员了。可以自己建一支队，再邀请好友加入。',
    unknown_team: '没有找到这个邀请码对应的队伍，请核对后重试。',
    already_in_team: '你已经在一支队伍里了，每人只能加入一支队伍。',
    campaign_closed: '活动现在不在进行中，不能组队。',
    offline: '网络不可用，请联网后点「重试」。',
    consent: '请先同意本页的个人信息保护提示，才能连接活动服务器。',
    rate_limited: '操作太频繁了，请稍等几秒再试。',
    invalid_request: '填写的内容不符合要求，请修改后重试。'
  };
  var CODE = /^[0-9A-Z]{4,16}$/;
  var invited = (new URLSearchParams(location.search).get('team') || '').trim().toUpperCase();
  if (!CODE.test(invited)) invited = '';
  var visitor = h.get('visitor', null) || h.ulid();
  h.set('visitor', visitor);
  function noop() {}
  function count(actions, a) { var v = (actions || {})[a]; return typeof v === 'number' ? v : (v && v.count) || 0; }

  h.register('team', function (el) {
    return el.querySelector(server ? '[data-server]' : '[data-solo]').hidden ? ['the panel for ' + (server ? 'the server' : 'no server') + ' is hidden'] : [];
  });
  [].forEach.call(d.querySelectorAll('[data-h5c="team"]'), function (root) {
    var id = root.getAttribute('data-id');
    var cfg = JSON.parse(root.getAttribute('data-config'));
    function $(s) { return root.querySelector(s); }
    $('[data-solo]').hidden = server;
    $('[data-server]').hidden = !server;
    if (!server) {
      var solo = function () {
        var actions = h.wallet().actions;
        [].forEach.call(root.querySelectorAll('[data-action]'), function (li) {
          li.querySelector('[data-n]').textContent = '已做 ' + count(actions, li.getAttribute('data-action')) + ' 次';
        });
      };
      h.on(solo);
      solo();
      root.setAttribute('data-h5-ready', '');
      return;
    }
    var forms = { join: $('[data-form="join"]'), create: $('[data-form="create"]'), nick: $('[data-form="nick"]') };
    var status = $('[data-status]');
    var errorBox = $('[data-error]');
    var team = null, seen, busy = false, note = '', retry = null;
    var wechat = /MicroMessenger/i.test(navigator.userAgent);

    function link() {
      var url = new URL(location.href);
      url.hash = '';
      url.searchParams.set('team', team.code);
      url.searchParams.set('ref', visitor);
      return url.href;
    }
    function fromMe() {
      var me = h.me();
      var now = JSON.stringify(me ? me.team : null);
      if (me && now !== seen) { seen = now; team = me.team || null; }
      return me;
    }
    function hint() {
      if (h.window !== 'open') return h.window === 'before' ? '活动还没开始，开始后就能组队。' : '活动已经结束，不能再组队了。';
      if (team && navigator.onLine === false) return '现在离线，显示的是上次同步的队伍信息。';
      if (team) return invited && invited !== team.code ? '你已经在队伍「' + team.name + '」里了，每人只能加入一支队伍。' : '';
      if (invited) return '好友邀请你加入队伍（邀请码 ' + invited + '），点「加入队伍」就行。';
      return '输入好友给你的邀请码加入队伍，或者自己建一支队。';
    }
    function paintTeam() {
      $('[data-name]').textContent = team.name;
      $('[data-code]').textContent = team.code;
      $('[data-link]').value = link();
      var list = Array.isArray(team.members) ? team.members : [];
      var joined = list.length || +team.members || 1;
      var ol = $('[data-members]');
      ol.textContent = '';
      for (var i = 0; i < (team.size || cfg.size); i++) {
        var m = list[i], li = d.createElement('li'), name = d.createElement('span'), small = d.createElement('small');
        var here = m || i < joined;
        name.textContent = here ? (m && m.nickname || '队员 ' + (i + 1)) + (m && m.me ? '（我）' : '') : '空位';
        small.textContent = m ? m.points + ' 积分' : here ? '' : '等待好友加入';
        li.className = m && m.me ? 'is-me' : here ? '' : 'is-empty';
        li.appendChild(name);
        li.appendChild(small);
        ol.appendChild(li);
      }
      var points = team.points || 0, goal = cfg.goal;
      $('[data-points]').textContent = points;
      if (goal) {
        $('[data-bar]').value = Math.min(points, goal);
        $('[data-unlock]').textContent = points >= goal || (team.unlocked && team.unlocked.reached)
          ? '已解锁「' + cfg.reward + '」，每位队员都可以去领取。'
          : '还差 ' + (goal - points) + ' 分，每位队员都能领取「' + cfg.reward + '」。';
      }
    }
    function paint() {
      var me = fromMe();
      var open = h.window === 'open';
      $('[data-view="start"]').hidden = !!team;
      $('[data-view="team"]').hidden = !team;
      if (team) paintTeam();
      [].forEach.call(forms.join.elements, function (el) { el.disabled = busy || !open || !!team; });
      [].forEach.call(forms.create.elements, function (el) { el.disabled = busy || !open || !!team; });
      [].forEach.call(forms.nick.elements, function (el) { el.disabled = busy; });
      var nick = forms.nick.elements.nickname;
      if (me && d.activeElement !== nick && !nick.hasAttribute('data-edited')) nick.value = me.nickname || '';
      status.textContent = busy ? '正在连接活动服务器…' : note || hint() || '\u00a0';
    }
    function fail(e, again) {
      retry = again;
      $('[data-msg]').textContent = ERRORS[e.code] || (e.status === 0 ? ERRORS.offline : '活动服务器暂时出了问题（' + (e.code || e.status) + '），请稍后重试。');
      errorBox.hidden = false;
      if (e.code === 'already_in_team') h.refresh().then(paint, noop);
    }
    function act(run, done) {
      busy = true;
      note = '';
      errorBox.hidden = true;
      paint();
      run().then(function (r) {
        busy = false;
        done(r);
        paint();
      }, function (e) {
        busy = false;
        fail(e, function () { act(run, done); });
        paint();
      });
    }
    function joined(t, kind, payload) {
      team = t;
      note = kind === 'team.create' ? '队伍已建好，把邀请链接发给两位好友吧。' : '已加入队伍「' + t.name + '」。';
      payload.team = t.code;
      h.emit(kind, id, payload);
      h.refresh().then(paint, noop);
    }
    function say(text) { note = text; paint(); }

    forms.join.addEventListener('submit', function (e) {
      e.preventDefault();
      var code = forms.join.elements.code.value.trim().toUpperCase();
      if (!CODE.test(code)) { say('邀请码是 8 位字母或数字，请核对后再输入。'); forms.join.elements.code.focus(); return; }
      act(function () { return h.api('POST', '/teams/join', { code: code }); },
        function (t) { joined(t, 'team.join', { via: code === invited ? 'link' : 'code' }); });
    });
    forms.create.addEventListener('submit', function (e) {
      e.preventDefault();
      var name = forms.create.elements.name.value.trim();
      if (!name) { say('先给队伍起个名字吧。'); forms.create.elements.name.focus(); return; }
      act(function () { return h.api('POST', '/teams', { name: name }); },
        function (t) { joined(t, 'team.create', { name: name }); });
    });
    forms.nick.addEventListener('input', function () { forms.nick.elements.nickname.setAttribute('data-edited', ''); });
    forms.nick.addEventListener('submit', function (e) {
      e.preventDefault();
      var input = forms.nick.elements.nickname;
      var nickname = input.value.trim();
      if (!nickname || nickname.length > 16) { say('昵称要 1 到 16 个字。'); input.focus(); return; }
      act(function () { return h.api('POST', '/me', { nickname: nickname }); }, function () {
        input.removeAttribute('data-edited');
        note = '昵称已保存。';
        h.emit('team.nickname', id, { nickname: nickname });
        h.refresh().then(paint, noop);
      });
    });
    $('[data-retry]').addEventListener('click', function () { if (retry) retry(); });

    /* Invites: Web Share where there is one, else the clipboard, else the link selected to copy by
       hand; each is a `share` event like the share block's, so the server links inviter and friend. */
    function shared(channel, text, share) {
      say(text);
      h.emit('share', id, { share: share.id, channel: channel, url: share.url, team: team.code });
      if (cfg.action) h.award(cfg.action, id);
    }
    $('[data-view="team"]').addEventListener('click', function (e) {
      var b = e.target.closest('[data-invite]');
      if (!b || !team) return;
      var share = h.shareLink(link()), url = share.url; /* this invite's own id as ref */
      var copy = function () {
        var by = function () { var i = $('[data-link]'); i.focus(); i.select(); say('请长按上面的链接，复制后发给好友。'); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(url).then(function () {
            shared('copy', wechat ? '邀请链接已复制，也可以点右上角「…」发给朋友。' : '邀请链接已复制，发给好友吧。', share);
          }, by);
        } else by();
      };
      if (b.getAttribute('data-invite') === 'native' && navigator.share) {
        navigator.share({ title: cfg.title, text: '来和我组队：「' + team.name + '」，邀请码 ' + team.code, url: url })
          .then(function () { shared('system', '邀请已发出。', share); }, noop);
      } else copy();
    });

    if (invited) forms.join.elements.code.value = invited;
    h.on(paint);
    h.live('team', function (t) {
      if (t) { team = t; paint(); } else if (h.me()) h.refresh().then(paint, noop); /* polling: only with an identity */
    });
    w.addEventListener('online', paint);
    w.addEventListener('offline', paint);
    paint(); /* api.js refreshes /me on load when there is an identity; h.on repaints */
    root.setAttribute('data-h5-ready', '');
  });
})(document, window);

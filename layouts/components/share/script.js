/* share: Web Share API, else copy the link; a poster drawn on a canvas with the build-time QR code.
   Each share action has its own id, on the link it shares as ref=<id>, so the visitors a share brings
   can be counted; each share is an event and may earn points. */
(function (d, w) {
  'use strict';
  var h = w.h5press;
  function poster(cfg, root) {
    var canvas = d.createElement('canvas');
    var css = getComputedStyle(root);
    canvas.width = 600;
    canvas.height = 900;
    var g = canvas.getContext('2d');
    g.fillStyle = css.getPropertyValue('--h5-primary').trim() || '#07c160';
    g.fillRect(0, 0, 600, 900);
    g.fillStyle = '#fff';
    g.fillRect(40, 40, 520, 820);
    g.fillStyle = '#1a1a1a';
    g.font = 'bold 40px sans-serif';
    g.fillText(cfg.title, 70, 130, 460);
    g.font = '28px sans-serif';
    var line = '', y = 200;
    (cfg.text || '').split('').forEach(function (ch) {
      if (g.measureText(line + ch).width > 460) { g.fillText(line, 70, y); line = ''; y += 44; }
      line += ch;
    });
    g.fillText(line, 70, y);
    var rows = cfg.qr.split(','), cell = Math.floor(300 / rows.length), x0 = 150, y0 = 480;
    g.fillStyle = '#000';
    rows.forEach(function (row, r) {
      for (var c = 0; c < row.length; c++) if (row.charAt(c) === '1') g.fillRect(x0 + c * cell, y0 + r * cell, cell, cell);
    });
    g.font = '24px sans-serif';
    g.fillStyle = '#666';
    g.fillText('扫码参加 · 长按保存图片', 160, 830);
    return canvas.toDataURL('image/png');
  }
  [].forEach.call(d.querySelectorAll('[data-h5c="share"]'), function (root) {
    var cfg = JSON.parse(root.getAttribute('data-config'));
    var id = root.getAttribute('data-id');
    var state = root.querySelector('.h5c-share__state');
    var wechat = /MicroMessenger/i.test(navigator.userAgent);
    function done(channel, message, link) {
      state.textContent = message;
      h.emit('share', id, { share: link.id, channel: channel, url: link.url });
      if (cfg.action) h.award(cfg.action, id);
    }
    function copy() {
      var link = h.shareLink(), url = link.url;
      var fallback = function () { state.textContent = '请复制链接：' + url; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(function () {
          done('copy', wechat ? '链接已复制，也可点右上角「…」发送给朋友' : '链接已复制，发给好友吧', link);
        }, fallback);
      } else fallback();
    }
    root.addEventListener('click', function (e) {
      var b = e.target.closest('[data-share]');
      if (!b) return;
      var kind = b.getAttribute('data-share');
      if (kind === 'native') {
        if (navigator.share) {
          var link = h.shareLink();
          navigator.share({ title: cfg.title, text: cfg.text || '', url: link.url })
            .then(function () { done('system', '已分享，谢谢！', link); }, function () { /* cancelled */ });
        } else copy();
      } else if (kind === 'copy') copy();
      else {
        var figure = root.querySelector('.h5c-share__poster');
        // The <img> exists only once it has a picture: an image without a source is invalid HTML.
        var img = figure.querySelector('img') || figure.insertBefore(document.createElement('img'), figure.firstChild);
        img.alt = '分享海报：长按保存或发送给好友';
        img.width = 600;
        img.height = 900;
        img.src = poster(cfg, root);
        figure.hidden = false;
        done('poster', '海报已生成', { id: h.ulid() }); /* its QR code, made at build time, says ref=qr */
      }
    });
    [].forEach.call(root.querySelectorAll('[data-share]'), function (b) { b.disabled = false; });
    root.setAttribute('data-h5-ready', '');
  });
})(document, window);

/* In-page probes of `h5press check`: run with page.evaluate(probe, options); returns findings
   {rule, severity, message, selector, box: [x, y, w, h] in CSS px of the page}. */
(options) => {
  const out = [];
  const doc = document.documentElement;
  const width = doc.clientWidth;
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    return el.checkVisibility ? el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) : true;
  };
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return [Math.round(r.left + scrollX), Math.round(r.top + scrollY), Math.round(r.width), Math.round(r.height)];
  };
  const selector = (el) => {
    const parts = [];
    for (let node = el; node && node !== doc && parts.length < 4; node = node.parentElement) {
      let part = node.localName;
      if (node.id) { parts.unshift(part + '#' + CSS.escape(node.id)); break; }
      const cls = [...node.classList].slice(0, 2).map((c) => '.' + CSS.escape(c)).join('');
      part += cls;
      const parent = node.parentElement;
      if (parent) {
        const same = [...parent.children].filter((c) => c.localName === node.localName);
        if (same.length > 1) part += ':nth-of-type(' + (same.indexOf(node) + 1) + ')';
      }
      parts.unshift(part);
    }
    return parts.join(' > ');
  };
  const add = (rule, severity, message, el) => out.push({ rule, severity, message, selector: el ? selector(el) : '', box: el ? box(el) : null });
  const scrolls = (el) => {
    for (let node = el.parentElement; node && node !== doc; node = node.parentElement) {
      const ox = getComputedStyle(node).overflowX;
      if (ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip') return true;
    }
    return false;
  };
  const prefix = options.pass === 'main' ? '' : options.pass + ': ';

  if (document.scrollingElement.scrollWidth > width + 1 && !options.overflowKnown) {
    const culprit = [...document.body.querySelectorAll('*')].find((el) => visible(el) && !scrolls(el) &&
      el.getBoundingClientRect().right > width + 1 && getComputedStyle(el).position !== 'fixed');
    add(options.pass === 'main' ? 'overflow' : options.pass, 'error',
      prefix + 'page is ' + document.scrollingElement.scrollWidth + ' px wide on a ' + width + ' px screen (horizontal scrolling)', culprit);
  }
  if (options.pass !== 'main') {
    for (const el of document.body.querySelectorAll('*')) {
      const style = getComputedStyle(el);
      const clips = /hidden|clip/.test(style.overflowX + style.overflowY) || style.textOverflow === 'ellipsis';
      const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (clips && text && visible(el) && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
        add(options.pass, 'warning', prefix + 'text is clipped', el);
      }
    }
    return out;
  }

  const meta = document.querySelector('meta[name="viewport"]');
  const content = meta ? meta.content.replace(/\s+/g, '').toLowerCase() : '';
  if (!meta) add('viewport', 'error', 'no <meta name="viewport">: phones render the page at desktop width', null);
  else if (!/(^|,)width=device-width(,|$)/.test(content)) add('viewport', 'error', 'viewport meta lacks width=device-width: "' + meta.content + '"', null);
  else if (/user-scalable=(no|0)|maximum-scale=1(\.0*)?(,|$)/.test(content)) add('viewport', 'warning', 'viewport meta blocks zooming: "' + meta.content + '"', null);

  const inlineInText = (el) => {
    if (el.localName !== 'a' || getComputedStyle(el).display !== 'inline') return false;
    const block = el.closest('p,li,td,th,dd,figcaption,blockquote');
    return !!block && block.textContent.trim().length > el.textContent.trim().length;
  };
  const targets = 'a[href],button,input:not([type="hidden"]),select,textarea,summary,[role="button"],[role="link"],[tabindex]:not([tabindex="-1"])';
  // A checkbox or radio button is tapped through its label: the label's box is the target.
  const hitArea = (el) => {
    if (el.localName !== 'input' || !/^(checkbox|radio)$/.test(el.type)) return el;
    return el.closest('label') || (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el;
  };
  // Elder mode (campaign.yaml elder_mode) promises 60 px targets and 18 px text.
  const elder = document.documentElement.classList.contains('h5-elder');
  const tapMin = elder ? Math.max(60, options.tapMin) : options.tapMin;
  const textMin = elder ? 18 : 12;
  const mode = elder ? ' (elder mode)' : '';
  for (const el of document.querySelectorAll(targets)) {
    if (!visible(el) || inlineInText(el)) continue;
    const r = hitArea(el).getBoundingClientRect();
    if (r.width < tapMin - 0.5 || r.height < tapMin - 0.5) {
      add('tap-target', 'error', 'touch target ' + Math.round(r.width) + '×' + Math.round(r.height) + ' CSS px, under ' + tapMin + '×' + tapMin + mode, el);
    }
  }

  const small = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || small.has(el) || !visible(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < textMin - 0.01) { small.add(el); add('text-size', elder ? 'error' : 'warning', 'text at ' + size + ' px, under ' + textMin + ' px' + mode, el); }
  }

  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('width') || !img.hasAttribute('height')) {
      add('image-dimensions', 'warning', 'image without width and height attributes: the layout shifts when it loads (' + (img.currentSrc || img.src).split('/').pop() + ')', img);
    }
  }
  return out;
}

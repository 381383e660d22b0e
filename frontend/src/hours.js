// Opening hours in OpenStreetMap's syntax, written for people: shared by the
// public page's station list and the command map's cards.

const DAYS = { Mo: '周一', Tu: '周二', We: '周三', Th: '周四', Fr: '周五', Sa: '周六', Su: '周日' };

/** hoursText writes OpenStreetMap opening hours in Chinese ("Mo-Fr 08:30-12:00" → "周一至周五 08:30-12:00"). */
export function hoursText(hours) {
  const h = String(hours ?? '').trim();
  if (!h) return '';
  if (h === '24/7') return '全天 24 小时';
  return h.split(';').map((rule) => rule.trim()).filter(Boolean).map((rule) => {
    const [days, ...times] = rule.split(' ');
    const d = days.split(',').map((part) => part.split('-').map((x) => DAYS[x] ?? x).join('至')).join('、');
    const t = times.join(' ').replace(/^(off|closed)$/, '休息').replace(/,/g, '、');
    return `${d} ${t}`;
  }).join('；');
}

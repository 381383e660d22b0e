// 查进度: the public follows a report by its tracking code
// (GET /api/public/reports/{code}): its category, status, when it was
// reported and closed, the replies the staff marked public, and how many
// photos the reporter sent. Nothing else of the case reaches the public.
import { escapeHtml } from '../format.js';
import { getJSON } from '../http.js';
import { STATUS, STEPS, formatTime, myReports } from './reportutil.js';

const $ = (id) => document.getElementById(id);

/** initTrack wires the form; categories is a promise of [{ code, name }]. It returns { open(code) }. */
export function initTrack({ categories }) {
  let seq = 0;

  async function follow(code) {
    const mine = ++seq;
    const out = $('t-result');
    out.innerHTML = '<p class="m-status">正在查询…</p>';
    try {
      const [r, cats] = await Promise.all([getJSON(`/api/public/reports/${encodeURIComponent(code)}`), categories.catch(() => [])]);
      if (mine !== seq) return;
      out.innerHTML = resultHTML(r, cats);
    } catch (err) {
      if (mine !== seq) return;
      const why = err.status === 400 ? '编号有误，请核对后重新输入（编号由数字和字母组成，如 ABCD-EFGH-JK）'
        : err.status === 404 ? '没有找到这个编号的上报，请核对编号'
          : err.status === 429 ? '查询太频繁，请稍后再试' : `查询失败：${err.message}`;
      out.innerHTML = `<p class="m-status m-error" role="alert">${escapeHtml(why)}</p>`;
    }
  }

  function renderMine() {
    const list = myReports();
    $('t-mine').hidden = !list.length;
    $('t-mine-list').innerHTML = list.map((r) => `<li><a href="#track=${encodeURIComponent(r.code)}">${escapeHtml(r.code)}</a>` +
      `<span>${escapeHtml(formatTime(r.at))}</span></li>`).join('');
  }

  $('track-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const code = $('t-code').value.trim();
    if (!code) {
      $('t-result').innerHTML = '<p class="m-status m-error" role="alert">请输入查询编号</p>';
      return;
    }
    if (location.hash !== `#track=${encodeURIComponent(code)}`) location.hash = `track=${encodeURIComponent(code)}`;
    else follow(code);
  });

  return {
    open(code) {
      renderMine();
      if (code) {
        $('t-code').value = code;
        follow(code);
      } else {
        $('t-result').innerHTML = '';
      }
    },
  };
}

function resultHTML(r, cats) {
  const name = cats.find((c) => c.code === r.category)?.name ?? r.category;
  const refused = r.status === 'refused';
  const steps = refused ? '' : `<ol class="m-steps">${STEPS.map((s) =>
    `<li class="${s.statuses.includes(r.status) ? 'm-done-step' : ''}">${s.name}</li>`).join('')}</ol>`;
  const replies = r.replies.length
    ? `<ul class="m-replies">${r.replies.map((x) => `<li><time>${escapeHtml(formatTime(x.at))}</time><p>${escapeHtml(x.text)}</p></li>`).join('')}</ul>`
    : '<p class="m-note">暂无答复。受理和办理的答复会显示在这里。</p>';
  return `<article class="m-track-card" data-status="${escapeHtml(r.status)}">
  <div class="m-track-head"><span class="m-track-code">${escapeHtml(r.tracking_code)}</span><span class="m-badge m-st-${escapeHtml(r.status)}">${escapeHtml(STATUS[r.status] ?? r.status)}</span></div>
  ${steps}
  <dl class="m-facts">
    <dt>问题类别</dt><dd>${escapeHtml(name)}</dd>
    <dt>上报时间</dt><dd>${escapeHtml(formatTime(r.reported_at))}</dd>
    ${r.closed_at ? `<dt>${refused ? '处理时间' : '办结时间'}</dt><dd>${escapeHtml(formatTime(r.closed_at))}</dd>` : ''}
    <dt>照片</dt><dd>${r.photos ? `已上传 ${r.photos} 张` : '无'}</dd>
  </dl>
  <h3>答复</h3>
  ${replies}
</article>`;
}

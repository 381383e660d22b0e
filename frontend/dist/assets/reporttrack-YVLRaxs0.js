import{n as e,w as t}from"./format-ChPTKK14.js";import{a as n,i as r,n as i,t as a}from"./reportutil-B0VZIdvS.js";var o=e=>document.getElementById(e);function s({categories:i}){let a=0;async function s(n){let r=++a,s=o(`t-result`);s.innerHTML=`<p class="m-status">正在查询…</p>`;try{let[e,o]=await Promise.all([t(`/api/public/reports/${encodeURIComponent(n)}`),i.catch(()=>[])]);if(r!==a)return;s.innerHTML=c(e,o)}catch(t){if(r!==a)return;let n=t.status===400?`编号有误，请核对后重新输入（编号由数字和字母组成，如 ABCD-EFGH-JK）`:t.status===404?`没有找到这个编号的上报，请核对编号`:t.status===429?`查询太频繁，请稍后再试`:`查询失败：${t.message}`;s.innerHTML=`<p class="m-status m-error" role="alert">${e(n)}</p>`}}function l(){let t=n();o(`t-mine`).hidden=!t.length,o(`t-mine-list`).innerHTML=t.map(t=>`<li><a href="#track=${encodeURIComponent(t.code)}">${e(t.code)}</a><span>${e(r(t.at))}</span></li>`).join(``)}return o(`track-form`).addEventListener(`submit`,e=>{e.preventDefault();let t=o(`t-code`).value.trim();t?location.hash===`#track=${encodeURIComponent(t)}`?s(t):location.hash=`track=${encodeURIComponent(t)}`:o(`t-result`).innerHTML=`<p class="m-status m-error" role="alert">请输入查询编号</p>`}),{open(e){l(),e?(o(`t-code`).value=e,s(e)):o(`t-result`).innerHTML=``}}}function c(t,n){let o=n.find(e=>e.code===t.category)?.name??t.category,s=t.status===`refused`,c=s?``:`<ol class="m-steps">${i.map(e=>`<li class="${e.statuses.includes(t.status)?`m-done-step`:``}">${e.name}</li>`).join(``)}</ol>`,l=t.replies.length?`<ul class="m-replies">${t.replies.map(t=>`<li><time>${e(r(t.at))}</time><p>${e(t.text)}</p></li>`).join(``)}</ul>`:`<p class="m-note">暂无答复。受理和办理的答复会显示在这里。</p>`;return`<article class="m-track-card" data-status="${e(t.status)}">
  <div class="m-track-head"><span class="m-track-code">${e(t.tracking_code)}</span><span class="m-badge m-st-${e(t.status)}">${e(a[t.status]??t.status)}</span></div>
  ${c}
  <dl class="m-facts">
    <dt>问题类别</dt><dd>${e(o)}</dd>
    <dt>上报时间</dt><dd>${e(r(t.reported_at))}</dd>
    ${t.closed_at?`<dt>${s?`处理时间`:`办结时间`}</dt><dd>${e(r(t.closed_at))}</dd>`:``}
    <dt>照片</dt><dd>${t.photos?`已上传 ${t.photos} 张`:`无`}</dd>
  </dl>
  <h3>答复</h3>
  ${l}
</article>`}export{s as initTrack};
import{_ as e,n as t}from"./font-CQ6v8D9p.js";import{a as n,i as r,n as i,t as a}from"./reportutil-Cl6DwMI7.js";var o=e=>document.getElementById(e);function s({categories:i}){let a=0;async function s(n){let r=++a,s=o(`t-result`);s.innerHTML=`<p class="m-status">正在查询…</p>`;try{let[t,o]=await Promise.all([e(`/api/public/reports/${encodeURIComponent(n)}`),i.catch(()=>[])]);if(r!==a)return;s.innerHTML=c(t,o)}catch(e){if(r!==a)return;let n=e.status===400?`编号有误，请核对后重新输入（编号由数字和字母组成，如 ABCD-EFGH-JK）`:e.status===404?`没有找到这个编号的上报，请核对编号`:e.status===429?`查询太频繁，请稍后再试`:`查询失败：${e.message}`;s.innerHTML=`<p class="m-status m-error" role="alert">${t(n)}</p>`}}function l(){let e=n();o(`t-mine`).hidden=!e.length,o(`t-mine-list`).innerHTML=e.map(e=>`<li><a href="#track=${encodeURIComponent(e.code)}">${t(e.code)}</a><span>${t(r(e.at))}</span></li>`).join(``)}return o(`track-form`).addEventListener(`submit`,e=>{e.preventDefault();let t=o(`t-code`).value.trim();t?location.hash===`#track=${encodeURIComponent(t)}`?s(t):location.hash=`track=${encodeURIComponent(t)}`:o(`t-result`).innerHTML=`<p class="m-status m-error" role="alert">请输入查询编号</p>`}),{open(e){l(),e?(o(`t-code`).value=e,s(e)):o(`t-result`).innerHTML=``}}}function c(e,n){let o=n.find(t=>t.code===e.category)?.name??e.category,s=e.status===`refused`,c=s?``:`<ol class="m-steps">${i.map(t=>`<li class="${t.statuses.includes(e.status)?`m-done-step`:``}">${t.name}</li>`).join(``)}</ol>`,l=e.replies.length?`<ul class="m-replies">${e.replies.map(e=>`<li><time>${t(r(e.at))}</time><p>${t(e.text)}</p></li>`).join(``)}</ul>`:`<p class="m-note">暂无答复。受理和办理的答复会显示在这里。</p>`;return`<article class="m-track-card" data-status="${t(e.status)}">
  <div class="m-track-head"><span class="m-track-code">${t(e.tracking_code)}</span><span class="m-badge m-st-${t(e.status)}">${t(a[e.status]??e.status)}</span></div>
  ${c}
  <dl class="m-facts">
    <dt>问题类别</dt><dd>${t(o)}</dd>
    <dt>上报时间</dt><dd>${t(r(e.reported_at))}</dd>
    ${e.closed_at?`<dt>${s?`处理时间`:`办结时间`}</dt><dd>${t(r(e.closed_at))}</dd>`:``}
    <dt>照片</dt><dd>${e.photos?`已上传 ${e.photos} 张`:`无`}</dd>
  </dl>
  <h3>答复</h3>
  ${l}
</article>`}export{s as initTrack};
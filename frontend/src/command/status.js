// The command map's status line: what the page is doing (loading), a
// failure of the page, and passing messages of one action.

/**
 * createStatus drives the status element el. show(text, isError) shows text
 * until it is replaced ('' hides it); notify(text, isError = true) shows it
 * for five seconds.
 */
export function createStatus(el) {
  let timer;
  function show(text, isError = false) {
    clearTimeout(timer);
    el.textContent = text;
    el.hidden = !text;
    el.classList.toggle('om-error', isError);
  }
  function notify(text, isError = true) {
    show(text, isError);
    timer = setTimeout(() => show(''), 5000);
  }
  return { show, notify };
}

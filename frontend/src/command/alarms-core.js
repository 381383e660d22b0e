// The alarm panel's page-free logic (alarms.js): the markers' data, the
// list kept by id and version, and the alarm tone.

/** SEVERITY_COLOURS are the markers' colours, by severity (1 most severe). */
export const SEVERITY_COLOURS = { 1: '#b00020', 2: '#e8590c', 3: '#f0a202', 4: '#5c7cfa' };
/** OPEN are the statuses of an alarm still to be worked. */
export const OPEN = new Set(['new', 'acknowledged']);

/** alarmsGeoJSON is the open alarms as points for the map. */
export function alarmsGeoJSON(alarms) {
  return {
    type: 'FeatureCollection',
    features: alarms.filter((a) => OPEN.has(a.status)).map((a) => ({
      type: 'Feature', id: a.id, geometry: { type: 'Point', coordinates: a.position },
      properties: { id: a.id, severity: a.severity, status: a.status, kind: a.kind, colour: SEVERITY_COLOURS[a.severity] ?? '#5c7cfa' },
    })),
  };
}

/**
 * mergeAlarm puts alarm a into list (by id, newest first), keeping the
 * later version when one arrives twice; it returns whether a was new.
 */
export function mergeAlarm(list, a) {
  const i = list.findIndex((x) => x.id === a.id);
  if (i >= 0) {
    if ((list[i].version ?? 0) <= (a.version ?? 0)) list[i] = a;
    return false;
  }
  list.push(a);
  list.sort((x, y) => y.id - x.id);
  return true;
}

/**
 * beep plays a short tone for an alarm, higher and repeated for a severe
 * one, made with WebAudio (no sound file). ctx is an AudioContext.
 */
export function beep(ctx, severity = 4) {
  const times = severity <= 2 ? 3 : 1;
  const freq = severity <= 2 ? 988 : 740;
  for (let i = 0; i < times; i++) {
    const start = ctx.currentTime + i * 0.22;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.18);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + 0.2);
  }
}


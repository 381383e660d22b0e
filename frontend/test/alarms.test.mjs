// Unit tests of the alarms' page-free logic (src/command/alarms-core.js):
// the list kept by id and version, the open alarms as map points, and the
// tone made with WebAudio.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alarmsGeoJSON, beep, mergeAlarm } from '../src/command/alarms-core.js';

const alarm = (id, version, status = 'new', severity = 2) => ({ id, version, status, severity, kind: 'crowd', position: [102.4, 25.5] });

describe('mergeAlarm', () => {
  it('keeps the newest first, each alarm once, its latest version', () => {
    const list = [];
    assert.equal(mergeAlarm(list, alarm(1, 1)), true);
    assert.equal(mergeAlarm(list, alarm(3, 1)), true);
    assert.equal(mergeAlarm(list, alarm(2, 1)), true);
    assert.deepEqual(list.map((a) => a.id), [3, 2, 1]);
    assert.equal(mergeAlarm(list, alarm(2, 3, 'acknowledged')), false);
    assert.equal(mergeAlarm(list, alarm(2, 2, 'new')), false); // an older version arriving late
    assert.equal(list.find((a) => a.id === 2).status, 'acknowledged');
  });
});

describe('alarmsGeoJSON', () => {
  it('draws the open alarms only, coloured by severity', () => {
    const fc = alarmsGeoJSON([alarm(1, 1, 'new', 1), alarm(2, 1, 'acknowledged', 4), alarm(3, 1, 'dismissed'), alarm(4, 1, 'cased')]);
    assert.deepEqual(fc.features.map((f) => f.id), [1, 2]);
    assert.equal(fc.features[0].properties.colour, '#b00020');
    assert.deepEqual(fc.features[0].geometry.coordinates, [102.4, 25.5]);
  });
});

describe('beep', () => {
  it('plays three tones for a severe alarm and one for the others, from oscillators (no file)', () => {
    const started = [];
    const param = () => ({ value: 0, setValueAtTime() {}, exponentialRampToValueAtTime() {} });
    const ctx = {
      currentTime: 10, destination: {},
      createOscillator: () => ({ frequency: param(), connect: (g) => g, start: (t) => started.push(t), stop() {} }),
      createGain: () => ({ gain: param(), connect: (d) => d }),
    };
    beep(ctx, 1);
    assert.equal(started.length, 3);
    started.length = 0;
    beep(ctx, 4);
    assert.deepEqual(started, [10]);
  });
});

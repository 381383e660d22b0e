// Which renderer is software (src/renderer.js): the command map hides its
// half-drawn frames under software rendering only (src/map.js wholeFirst).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSoftwareRenderer, rendererName, softwareRendered } from '../src/renderer.js';

test('isSoftwareRenderer knows the software rasterisers, and no GPU for one', () => {
  for (const name of [
    'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
    'Google SwiftShader',
    'llvmpipe (LLVM 15.0.7, 256 bits)',
    'ANGLE (Mesa, llvmpipe (LLVM 17.0.6 256 bits), OpenGL 4.5)',
    'softpipe',
    'ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)',
    'Software Adapter',
  ]) assert.equal(isSoftwareRenderer(name), true, name);
  for (const name of [
    'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002503) Direct3D11 vs_5_0 ps_5_0, D3D11)',
    'ANGLE (Intel, Intel(R) UHD Graphics 620 Direct3D11 vs_5_0 ps_5_0, D3D11)',
    'Apple M2', 'Mali-G78', 'Adreno (TM) 650', 'AMD Radeon Pro 5500M OpenGL Engine', 'Mesa Intel(R) Xe Graphics (TGL GT2)',
    'WebKit WebGL', '', undefined, null,
  ]) assert.equal(isSoftwareRenderer(name), false, String(name));
});

// fakeGL is a WebGL context naming renderer as RENDERER (plain) and, through
// WEBGL_debug_renderer_info, as unmasked (absent: no such extension).
function fakeGL(plain, unmasked) {
  const RENDERER = 0x1f01;
  const UNMASKED = 0x9246;
  return {
    RENDERER,
    getParameter: (p) => (p === RENDERER ? plain : p === UNMASKED ? unmasked : null),
    getExtension: (n) => (n === 'WEBGL_debug_renderer_info' && unmasked !== undefined ? { UNMASKED_RENDERER_WEBGL: UNMASKED } : null),
  };
}

test('rendererName reads past Chromium\'s masked name, and softwareRendered the canvas\'s own context', () => {
  const swiftshader = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
  assert.equal(rendererName(fakeGL('WebKit WebGL', swiftshader)), swiftshader);
  assert.equal(rendererName(fakeGL('llvmpipe (LLVM 15.0.7, 256 bits)')), 'llvmpipe (LLVM 15.0.7, 256 bits)', 'Firefox names it as RENDERER');
  assert.equal(rendererName(fakeGL('WebKit WebGL')), 'WebKit WebGL');
  assert.equal(rendererName(null), '');

  const canvas = (gl) => ({ getContext: (kind) => (kind === 'webgl2' ? gl : null) });
  assert.equal(softwareRendered(canvas(fakeGL('WebKit WebGL', swiftshader))), true);
  assert.equal(softwareRendered(canvas(fakeGL('WebKit WebGL', 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11)'))), false);
  assert.equal(softwareRendered(canvas(null)), false, 'no context: a GPU is assumed');
  assert.equal(softwareRendered({ getContext: () => { throw new Error('lost'); } }), false);
  assert.equal(softwareRendered(undefined), false);
});

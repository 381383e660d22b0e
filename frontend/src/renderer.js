// Which WebGL renderer draws a map: a GPU, or software (SwiftShader,
// llvmpipe, Windows' Basic Render Driver) on a PC or VM without one, or in
// headless Chromium. Kept apart from map.js so that it can be tested
// without a browser.

// SOFTWARE matches the renderer names of software rasterisers: Chromium's
// SwiftShader ("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)
// …), SwiftShader driver)"), Mesa's llvmpipe and softpipe ("llvmpipe (LLVM
// 15.0.7, 256 bits)"), Windows' "Microsoft Basic Render Driver", and any
// naming itself software ("Software Adapter", "Google SwiftShader").
const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render driver/i;

/** isSoftwareRenderer says whether a WebGL renderer's name is that of software rendering. */
export function isSoftwareRenderer(name) {
  return typeof name === 'string' && SOFTWARE.test(name);
}

/**
 * rendererName returns the name of the renderer behind a WebGL context gl:
 * the unmasked one where the browser gives it (Chromium's RENDERER is
 * "WebKit WebGL" whatever draws), else RENDERER; '' with no context.
 */
export function rendererName(gl) {
  if (!gl) return '';
  const plain = String(gl.getParameter(gl.RENDERER) ?? '');
  if (plain && !/^webkit webgl$/i.test(plain)) return plain;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL) ?? plain) : plain;
}

/**
 * softwareRendered says whether the WebGL context a canvas already holds
 * (MapLibre's webgl2, made with the map) is drawn by software. A canvas
 * with no context (or another kind) says false: a GPU is assumed.
 */
export function softwareRendered(canvas) {
  let gl = null;
  try {
    gl = canvas?.getContext?.('webgl2') ?? null;
  } catch {
    gl = null;
  }
  return isSoftwareRenderer(rendererName(gl));
}

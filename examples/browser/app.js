// Loads the base and the adapted model (tf.loadLayersModel over HTTP) and classifies what is drawn on the pad.
// Query parameters: base, adapted (model.json URLs), backend (e.g. "cpu"). window.rankwise is the hook tests use.
const params = new URLSearchParams(location.search);
const baseUrl = params.get('base') ?? 'models/base/model.json';
const adaptedUrl = params.get('adapted') ?? 'models/adapted/model.json';

const pad = document.getElementById('pad');
const ctx = pad.getContext('2d');
const status = document.getElementById('status');

function clearPad() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
}
clearPad();

/** The pad as a digit like the training data: 28×28 grey values in [0, 1], ink bright on black. */
function padPixels() {
  const small = document.createElement('canvas');
  small.width = 28;
  small.height = 28;
  const s = small.getContext('2d');
  s.imageSmoothingEnabled = true;
  s.imageSmoothingQuality = 'high';
  s.drawImage(pad, 0, 0, 28, 28);
  const rgba = s.getImageData(0, 0, 28, 28).data;
  const pixels = new Float32Array(784);
  for (let i = 0; i < 784; i++) pixels[i] = rgba[i * 4] / 255;
  return pixels;
}

/** Probabilities [n, 10] of both models for n images of 784 values each. */
function predict(models, images) {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(images.flat()), [images.length, 28, 28, 1]);
    return { base: models.base.predict(x).arraySync(), adapted: models.adapted.predict(x).arraySync() };
  });
}

function show(id, probs) {
  const box = document.getElementById(id);
  const best = probs.indexOf(Math.max(...probs));
  box.querySelector('.top').textContent = `${best}  ${(probs[best] * 100).toFixed(1)} %`;
  box.querySelector('.bars').innerHTML = probs
    .map(
      (p, d) =>
        `<div class="bar${d === best ? ' best' : ''}">${d} <span class="fill" style="width:${Math.round(p * 160)}px"></span> ${(p * 100).toFixed(1)}</div>`,
    )
    .join('');
}

async function start() {
  if (params.get('backend')) await tf.setBackend(params.get('backend'));
  await tf.ready();
  const [base, adapted] = await Promise.all([tf.loadLayersModel(baseUrl), tf.loadLayersModel(adaptedUrl)]);
  const models = { base, adapted };
  status.textContent = `models loaded (backend ${tf.getBackend()}); draw with the mouse`;
  const classify = () => {
    const out = predict(models, [Array.from(padPixels())]);
    show('base', out.base[0]);
    show('adapted', out.adapted[0]);
  };
  let drawing = false;
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...at(e));
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    ctx.lineTo(...at(e));
    ctx.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    classify();
  };
  pad.addEventListener('pointerup', finish);
  pad.addEventListener('pointerleave', finish);
  document.getElementById('clear').addEventListener('click', () => {
    clearPad();
    for (const id of ['base', 'adapted']) {
      document.querySelector(`#${id} .top`).textContent = '–';
      document.querySelector(`#${id} .bars`).innerHTML = '';
    }
  });
  return { predict: (images) => predict(models, images), padPixels: () => Array.from(padPixels()), backend: tf.getBackend() };
}

window.rankwise = start().catch((error) => {
  status.textContent = `failed: ${error.message}`;
  throw error;
});

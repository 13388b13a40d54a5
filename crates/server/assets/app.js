// Armory's one small module: the scan box (keyboard-wedge scanners type an id and Enter, which
// submits the form) and a camera button where the browser has BarcodeDetector (HTTPS or localhost).
(function () {
  const box = document.getElementById('scan');
  if (box && !document.querySelector('[autofocus]:not(#scan)')) box.focus();
  const cam = document.getElementById('camera');
  if (!cam) return;
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) { cam.hidden = true; return; }
  cam.addEventListener('click', async () => {
    const video = document.createElement('video');
    video.setAttribute('playsinline', '');
    video.className = 'camera';
    cam.after(video);
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    video.srcObject = stream; await video.play();
    const detector = new BarcodeDetector({ formats: ['qr_code', 'code_128', 'data_matrix'] });
    const tick = async () => {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) {
        stream.getTracks().forEach(t => t.stop());
        box.value = codes[0].rawValue; box.form.submit(); return;
      }
      requestAnimationFrame(tick);
    };
    tick();
  });
})();

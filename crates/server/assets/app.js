// Armory's one small module: the scan box (keyboard-wedge scanners type an id and Enter, which
// submits the form) and a camera button where the browser has BarcodeDetector (HTTPS or localhost).
(function () {
  // "Back" on a page that says an act was not done: the form as it was, where there is history.
  document.querySelectorAll('a[data-back]').forEach((a) => a.addEventListener('click', (e) => {
    if (history.length > 1) { e.preventDefault(); history.back(); }
  }));
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

// Passkeys (WebAuthn): registering one on the Account page, and confirming an act with one in
// place of a PIN. The node prepares the act; the device signs its hash; the form carries the
// assertion (field `passkeys`, person -> assertion) and the entry keeps it.
(function () {
  if (!window.PublicKeyCredential) {
    document.querySelectorAll('[data-passkey-register], [data-passkey-for]').forEach(b => { b.hidden = true; });
    return;
  }
  const bytes = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), c => c.charCodeAt(0));
  const text = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const say = (button, message, bad) => {
    const out = button.closest('form').querySelector('.passkey-status') || button.parentElement.querySelector('.passkey-status');
    if (out) { out.textContent = message; out.className = 'passkey-status ' + (bad ? 'error' : 'done'); }
  };
  const keys = list => (list || []).map(c => ({ ...c, id: bytes(c.id) }));
  const answer = async r => {
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || ('the node answered ' + r.status));
    return body;
  };
  document.querySelectorAll('[data-passkey-register]').forEach(button => button.addEventListener('click', async () => {
    const csrf = button.closest('form').querySelector('[name=csrf]').value;
    const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf };
    try {
      const options = await answer(await fetch('/api/passkeys/options', { method: 'POST', headers, body: '{}' }));
      const pk = options.publicKey;
      pk.challenge = bytes(pk.challenge); pk.user.id = bytes(pk.user.id); pk.excludeCredentials = keys(pk.excludeCredentials);
      const made = await navigator.credentials.create({ publicKey: pk });
      const done = await answer(await fetch('/api/passkeys', { method: 'POST', headers, body: JSON.stringify({
        attestation_object: text(made.response.attestationObject), client_data_json: text(made.response.clientDataJSON) }) }));
      say(button, 'Passkey registered (' + done.credential.slice(0, 8) + '…), and recorded in the log.', false);
    } catch (e) { say(button, 'Not registered: ' + e.message, true); }
  }));
  document.querySelectorAll('[data-passkey-for]').forEach(button => button.addEventListener('click', async () => {
    const form = button.closest('form');
    const field = button.dataset.passkeyFor;
    const person = (form.elements[field] || {}).value;
    if (!person) { say(button, 'Write their id first.', true); return; }
    const data = new URLSearchParams(new FormData(form));
    data.set('passkey_for', person);
    try {
      const options = await answer(await fetch('/confirm/options', { method: 'POST', body: data }));
      const pk = options.publicKey;
      pk.challenge = bytes(pk.challenge); pk.allowCredentials = keys(pk.allowCredentials);
      const got = await navigator.credentials.get({ publicKey: pk });
      let store = form.querySelector('[name=passkeys]');
      if (!store) {
        store = document.createElement('input');
        store.type = 'hidden'; store.name = 'passkeys';
        form.appendChild(store);
      }
      const all = store.value ? JSON.parse(store.value) : {};
      all[person] = { act: options.act, credential: text(got.rawId), authenticator_data: text(got.response.authenticatorData),
        client_data_json: text(got.response.clientDataJSON), signature: text(got.response.signature) };
      store.value = JSON.stringify(all);
      const pin = form.elements[field + '_pin'];
      if (pin) { pin.required = false; pin.disabled = true; }
      say(button, person + ' confirmed with their passkey.', false);
    } catch (e) { say(button, 'Not confirmed: ' + e.message, true); }
  }));
})();
